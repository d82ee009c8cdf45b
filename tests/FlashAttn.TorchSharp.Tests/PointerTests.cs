using FlashAttn.TorchSharp.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

[TestFixture]
public class PointerTests
{
    /// <summary>The pointer handed to the kernels equals the one TorchSharp's public Storage API gives.</summary>
    [Test]
    public void DataPointerAgreesWithPublicStorageApi()
    {
        using var scope = NewDisposeScope();
        Tensor t = randn([4, 6, 8]);
        Tensor view = t.narrow(1, 2, 3).select(0, 1);
        using var storage = view.storage<float>();
        nint expected = storage.data_ptr() + (nint)(view.storage_offset() * sizeof(float));
        Assert.That(LibTorchSharpData.DataPtr(view, "view"), Is.EqualTo(expected));
    }
}
