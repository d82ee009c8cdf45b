using FlashAttn;
using FlashAttn.Interop;

namespace FlashAttn.Tests;

[TestFixture]
public class LibraryTests
{
    [Test]
    public void ManagedParamsMirrorMatchesHeaderLayout()
    {
        Assert.That(NativeLayout.CheckManagedLayout(), Is.Null);
        Assert.That(System.Runtime.CompilerServices.Unsafe.SizeOf<FaParams>(), Is.EqualTo(392));
    }

    [Test]
    public void LoadedLibraryMatchesAbiAndLayout()
    {
        Assert.That(FlashAttention.AbiVersion, Is.EqualTo(NativeLayout.ExpectedAbiVersion));
        Assert.That(FlashAttention.NativeLibraryPath, Is.Not.Null.And.Not.Empty, "resolved by FlashAttn's resolver, not the OS search");
    }

    [Test]
    public void NativePathVariableIsSearchedFirst()
    {
        string? saved = Environment.GetEnvironmentVariable(NativeLibraryResolver.PathEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(NativeLibraryResolver.PathEnvironmentVariable, "/opt/fa/libflashattn.so");
            Assert.That(NativeLibraryResolver.Candidates().First(), Is.EqualTo("/opt/fa/libflashattn.so"));
            string dir = Path.GetTempPath();
            Environment.SetEnvironmentVariable(NativeLibraryResolver.PathEnvironmentVariable, dir);
            Assert.That(NativeLibraryResolver.Candidates().First(), Is.EqualTo(Path.Combine(dir, NativeLibraryResolver.FileName)));
            Environment.SetEnvironmentVariable(NativeLibraryResolver.PathEnvironmentVariable, null);
            var candidates = NativeLibraryResolver.Candidates().ToList();
            Assert.That(candidates[0], Is.EqualTo(Path.Combine(Path.GetDirectoryName(typeof(FlashAttention).Assembly.Location)!, NativeLibraryResolver.FileName)));
            Assert.That(candidates, Has.Some.Contains(Path.Combine("runtimes", "linux-x64", "native")).Or.Some.Contains("runtimes"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(NativeLibraryResolver.PathEnvironmentVariable, saved);
        }
    }

    [Test]
    public void AbiMismatchIsDescribed()
    {
        string? message = NativeLayout.DescribeMismatch(NativeLayout.ExpectedAbiVersion + 1, 392, "/x/libflashattn.so");
        Assert.That(message, Does.Contain("ABI version mismatch").And.Contain("/x/libflashattn.so"));
        Assert.That(NativeLayout.DescribeMismatch(NativeLayout.ExpectedAbiVersion, 400, null), Does.Contain("layout mismatch"));
        Assert.That(NativeLayout.DescribeMismatch(NativeLayout.ExpectedAbiVersion, 392, null), Is.Null);
    }

    [Test]
    public void VersionAndCapabilities()
    {
        Assert.That(FlashAttention.Version, Is.Not.Empty);
        Assert.That(FlashAttention.Capabilities.HasFlag(FlashAttnCapabilities.Cpu), Is.True);
        Assert.That(FlashAttention.CudaDeviceCount, Is.GreaterThanOrEqualTo(0));
        TestContext.Out.WriteLine($"flashattn {FlashAttention.Version}, caps {FlashAttention.Capabilities}, " +
                                  $"{FlashAttention.CudaDeviceCount} CUDA device(s), loaded from {FlashAttention.NativeLibraryPath}");
    }

    [Test]
    public void CpuThreadCountRoundTrips()
    {
        int saved = FlashAttention.CpuThreadCount;
        try
        {
            FlashAttention.CpuThreadCount = 1;
            Assert.That(FlashAttention.CpuThreadCount, Is.EqualTo(1));
        }
        finally
        {
            FlashAttention.CpuThreadCount = saved;
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => FlashAttention.CpuThreadCount = -1);
    }

    [Test]
    public unsafe void SelectBackendAndWorkspaceOnCpu()
    {
        long[] qs = [1, 3, 2, 8], ks = [1, 4, 2, 8], ls = [1, 2, 3];
        // Inputs and outputs in separate arrays: outputs may not alias inputs.
        var q = new float[48]; var k = new float[64]; var lse = new float[6];
        var o = new float[48]; var dq = new float[48]; var dk = new float[64]; var dv = new float[64];
        fixed (float* fq = q, fk = k, fl = lse, fo = o, fdq = dq, fdk = dk, fdv = dv)
        {
            nint pq = (nint)fq, pk = (nint)fk, pl = (nint)fl, po = (nint)fo, pdq = (nint)fdq, pdk = (nint)fdk, pdv = (nint)fdv;
            TensorView Q(nint p) => TensorView.Contiguous(p, ScalarType.Float32, qs);
            TensorView K(nint p) => TensorView.Contiguous(p, ScalarType.Float32, ks);
            TensorView L() => TensorView.Contiguous(pl, ScalarType.Float32, ls);
            Assert.That(FlashAttention.SelectBackend(Q(pq), K(pk), K(pk), Q(po), L()), Is.EqualTo(AttentionBackend.Cpu));
            Assert.That(FlashAttention.SelectBackend(Q(pq), K(pk), K(pk), Q(po), L(), Q(pq), Q(pdq), K(pdk), K(pdv)),
                Is.EqualTo(AttentionBackend.Cpu));
            Assert.That(FlashAttention.BackwardWorkspaceSize(Q(pq), K(pk), K(pk), Q(po), L(), Q(pq), Q(pdq), K(pdk), K(pdv)),
                Is.EqualTo(0UL));
        }
    }

    [Test]
    public void DeviceToString()
    {
        Assert.That(Device.Cpu.ToString(), Is.EqualTo("cpu"));
        Assert.That(Device.Cuda(1).ToString(), Is.EqualTo("cuda:1"));
        Assert.That(Device.Cuda(0), Is.Not.EqualTo(Device.Cpu));
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Cuda(-1));
    }
}
