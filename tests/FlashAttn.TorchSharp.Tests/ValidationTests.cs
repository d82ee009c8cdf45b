using FlashAttn.TorchSharp.Modules;
using FlashAttn.TorchSharp.Tests.Support;
using TorchSharp;
using static FlashAttn.TorchSharp.FlashAttnInterface;
using static TorchSharp.torch;

namespace FlashAttn.TorchSharp.Tests;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

/// <summary>Every bad input fails with an exact exception type naming the argument, before any kernel runs.</summary>
[TestFixture]
public class ValidationTests
{
    private static (Tensor Q, Tensor K, Tensor V) Good() =>
        (randn([2, 8, 4, 32]), randn([2, 10, 2, 32]), randn([2, 10, 2, 32]));

    private static void ThrowsNaming<TException>(TestDelegate call, string param, string messagePart) where TException : ArgumentException
    {
        var e = Assert.Throws<TException>(call)!;
        Assert.That(e.ParamName, Is.EqualTo(param));
        Assert.That(e.Message, Does.Contain(messagePart));
    }

    [Test]
    public void NullTensors()
    {
        var (q, k, v) = Good();
        ThrowsNaming<ArgumentNullException>(() => flash_attn_func(null!, k, v), "q", "q");
        ThrowsNaming<ArgumentNullException>(() => flash_attn_func(q, k, null!), "v", "v");
        ThrowsNaming<ArgumentNullException>(() => flash_attn_qkvpacked_func(null!), "qkv", "qkv");
    }

    [Test]
    public void UnsupportedDtypes()
    {
        var (q, k, v) = Good();
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q.to(ScalarType.Float64), k.to(ScalarType.Float64), v.to(ScalarType.Float64)), "q", "Float64");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q.to(ScalarType.Int32), k, v), "q", "Int32");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k.to(ScalarType.Float16), v), "k", "dtype");
    }

    [Test]
    public void WrongRanksAndShapes()
    {
        var (q, k, v) = Good();
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q.flatten(2), k, v), "q", "4-D");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k.narrow(0, 0, 1), v.narrow(0, 0, 1)), "k", "batch");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k, v.narrow(1, 0, 9)), "v", "shape");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q.narrow(2, 0, 3), k, v), "k", "multiple");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k.narrow(3, 0, 16), v.narrow(3, 0, 16)), "k", "head_dim");
        ThrowsNaming<ArgumentOutOfRangeException>(() => flash_attn_func(randn([1, 4, 2, 300]), randn([1, 4, 2, 300]), randn([1, 4, 2, 300])), "q", "head_dim");
        ThrowsNaming<ArgumentOutOfRangeException>(() => flash_attn_func(q.narrow(1, 0, 0), k, v), "q", "seqlen_q");
        ThrowsNaming<ArgumentException>(() => flash_attn_qkvpacked_func(randn([2, 8, 2, 4, 32])), "qkv", "3");
        ThrowsNaming<ArgumentException>(() => flash_attn_kvpacked_func(q, randn([2, 10, 3, 2, 32])), "kv", "2");
    }

    [Test]
    public void HeadDimMustBeContiguous()
    {
        var (q, k, v) = Good();
        Tensor qT = randn([2, 8, 32, 4]).transpose(2, 3);
        ThrowsNaming<ArgumentException>(() => flash_attn_func(qT, k, v), "q", "last dimension");
    }

    [Test]
    public void FeaturesTheKernelsLackAreRefusedNotIgnored()
    {
        var (q, k, v) = Good();
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k, v, dropout_p: 0.1), "dropout_p", "not supported yet");
        ThrowsNaming<ArgumentOutOfRangeException>(() => flash_attn_func(q, k, v, dropout_p: 1.5), "dropout_p", "[0, 1)");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k, v, window_size: (4, 0)), "window_size", "not supported yet");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k, v, softcap: 30), "softcap", "not supported yet");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k, v, alibi_slopes: ones(4)), "alibi_slopes", "not supported yet");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q, k, v, return_attn_probs: true), "return_attn_probs", "not supported yet");
        ThrowsNaming<ArgumentOutOfRangeException>(() => flash_attn_func(q, k, v, softmax_scale: -1), "softmax_scale", "> 0");
        Assert.DoesNotThrow(() => flash_attn_func(q, k, v, window_size: (-1, -1)).Dispose());
    }

    [Test]
    public void VarlenArguments()
    {
        Tensor q = randn([10, 4, 32]), k = randn([12, 2, 32]), v = randn([12, 2, 32]);
        Tensor cuQ = tensor(new[] { 0, 4, 10 }, dtype: ScalarType.Int32), cuK = tensor(new[] { 0, 5, 12 }, dtype: ScalarType.Int32);
        Assert.DoesNotThrow(() => flash_attn_varlen_func(q, k, v, cuQ, cuK, 6, 7).Dispose());
        ThrowsNaming<ArgumentException>(() => flash_attn_varlen_func(q, k, v, cuQ.to(ScalarType.Int64), cuK, 6, 7), "cu_seqlens_q", "Int32");
        ThrowsNaming<ArgumentException>(() => flash_attn_varlen_func(q, k, v, cuQ, cuK.narrow(0, 0, 2), 6, 7), "cu_seqlens_k", "length");
        ThrowsNaming<ArgumentException>(() => flash_attn_varlen_func(q, k, v, tensor(new[] { 1, 4, 10 }, dtype: ScalarType.Int32), cuK, 6, 7), "cu_seqlens_q", "must be 0");
        ThrowsNaming<ArgumentException>(() => flash_attn_varlen_func(q, k, v, cuQ, cuK, 5, 7), "cu_seqlens_q", "max_seqlen_q");
        ThrowsNaming<ArgumentException>(() => flash_attn_varlen_func(q, k, v, cuQ, tensor(new[] { 0, 5, 13 }, dtype: ScalarType.Int32), 6, 8), "cu_seqlens_k", "exceeds");
        ThrowsNaming<ArgumentOutOfRangeException>(() => flash_attn_varlen_func(q, k, v, cuQ, cuK, 0, 7), "max_seqlen_q", "between 1");
        ThrowsNaming<ArgumentException>(() => flash_attn_varlen_func(q.unsqueeze(0), k, v, cuQ, cuK, 6, 7), "q", "3-D");
    }

    [Test]
    public void CudaOnlyRules()
    {
        Device cuda = Devices.Get("cuda");
        var (q, k, v) = Good();
        Tensor qc = q.to(ScalarType.Float16, cuda), kc = k.to(ScalarType.Float16, cuda), vc = v.to(ScalarType.Float16, cuda);
        ThrowsNaming<ArgumentException>(() => flash_attn_func(qc, k.to(ScalarType.Float16), vc), "k", "device");
        ThrowsNaming<ArgumentException>(() => flash_attn_func(q.to(cuda), k.to(cuda), v.to(cuda)), "q", "Float16 or BFloat16");
        Tensor odd = randn([1, 4, 2, 20], ScalarType.Float16, cuda);
        ThrowsNaming<ArgumentOutOfRangeException>(() => flash_attn_func(odd, odd, odd), "q", "multiple of 8");
    }

    [Test]
    public void FlashMhaArguments()
    {
        ThrowsNaming<ArgumentOutOfRangeException>(() => new FlashMHA(64, 5), "num_heads", "divide");
        ThrowsNaming<ArgumentOutOfRangeException>(() => new FlashMHA(64, 4, num_kv_heads: 3), "num_kv_heads", "divide");
        ThrowsNaming<ArgumentOutOfRangeException>(() => new FlashMHA(64, 4, rotary_dim: 7), "rotary_dim", "even");
        ThrowsNaming<ArgumentOutOfRangeException>(() => new FlashMHA(64, 4, dropout: 1.0), "dropout", "[0, 1)");
        using var mha = new FlashMHA(64, 4);
        ThrowsNaming<ArgumentException>(() => mha.forward(randn([2, 5, 32])), "x", "embed_dim");
        ThrowsNaming<ArgumentNullException>(() => mha.forward(null!), "x", "x");
    }
}
