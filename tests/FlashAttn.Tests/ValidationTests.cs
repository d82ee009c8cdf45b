using System.Runtime.InteropServices;
using FlashAttn;

namespace FlashAttn.Tests;

/// <summary>
/// One test per bad input: the exact exception type, and the offending argument named in ParamName and
/// in the message. All views point at real, zeroed memory so that a validation gap would produce a
/// wrong-answer failure, never a crash.
/// </summary>
[TestFixture]
public unsafe class ValidationTests
{
    private const int B = 2, Sq = 5, Sk = 7, Hq = 4, Hk = 2, D = 16;
    private readonly List<nint> _allocations = [];

    [TearDown]
    public void FreeMemory()
    {
        foreach (nint p in _allocations) NativeMemory.Free((void*)p);
        _allocations.Clear();
    }

    private nint Alloc(long bytes)
    {
        nint p = (nint)NativeMemory.AllocZeroed((nuint)Math.Max(bytes, 64));
        _allocations.Add(p);
        return p;
    }

    private TensorView T(ScalarType type, params long[] shape)
    {
        long n = 1;
        foreach (long s in shape) n *= Math.Max(s, 1);
        return TensorView.Contiguous(Alloc(n * type.ElementSize()), type, shape);
    }

    private TensorView Q(ScalarType t = ScalarType.Float32) => T(t, B, Sq, Hq, D);
    private TensorView K(ScalarType t = ScalarType.Float32) => T(t, B, Sk, Hk, D);
    private TensorView Lse() => T(ScalarType.Float32, B, Hq, Sq);

    private static void AssertNames<TException>(TestDelegate call, string param, string? mention = null) where TException : ArgumentException
    {
        var e = Assert.Throws<TException>(call)!;
        Assert.That(e.ParamName, Is.EqualTo(param), e.Message);
        Assert.That(e.Message, Does.Contain(mention ?? param));
    }

    private void Fwd(TensorView? q = null, TensorView? k = null, TensorView? v = null, TensorView? o = null, TensorView? lse = null, AttentionOptions? options = null) =>
        FlashAttention.Forward(q ?? Q(), k ?? K(), v ?? K(), o ?? Q(), lse ?? Lse(), options);

    private void Bwd(TensorView? dOut = null, TensorView? dq = null, TensorView? dk = null, TensorView? dv = null, TensorView? q = null) =>
        FlashAttention.Backward(q ?? Q(), K(), K(), Q(), Lse(), dOut ?? Q(), dq ?? Q(), dk ?? K(), dv ?? K());

    [Test]
    public void ValidCallSucceeds() => Assert.DoesNotThrow(() => Fwd());

    [Test]
    public void NullQ() => AssertNames<ArgumentNullException>(() => FlashAttention.Forward(null!, K(), K(), Q(), Lse()), "q");

    [Test]
    public void NullDv() => AssertNames<ArgumentNullException>(() => FlashAttention.Backward(Q(), K(), K(), Q(), Lse(), Q(), Q(), K(), null!), "dv");

    [Test]
    public void NullDataPointer() =>
        AssertNames<ArgumentNullException>(() => Fwd(v: TensorView.Contiguous(0, ScalarType.Float32, [B, Sk, Hk, D])), "v");

    [Test]
    public void WrongRankQ() => AssertNames<ArgumentException>(() => Fwd(q: T(ScalarType.Float32, B * Sq, Hq, D)), "q", "4-D");

    [Test]
    public void WrongRankLse() => AssertNames<ArgumentException>(() => Fwd(lse: T(ScalarType.Float32, B, Hq * Sq)), "softmaxLse", "3-D");

    [Test]
    public void BatchMismatchK() => AssertNames<ArgumentException>(() => Fwd(k: T(ScalarType.Float32, B + 1, Sk, Hk, D)), "k");

    [Test]
    public void HeadDimMismatchK() => AssertNames<ArgumentException>(() => Fwd(k: T(ScalarType.Float32, B, Sk, Hk, D + 8)), "k", "head_dim");

    [Test]
    public void ShapeMismatchV() => AssertNames<ArgumentException>(() => Fwd(v: T(ScalarType.Float32, B, Sk + 1, Hk, D)), "v");

    [Test]
    public void ShapeMismatchOutput() => AssertNames<ArgumentException>(() => Fwd(o: T(ScalarType.Float32, B, Sq + 1, Hq, D)), "output");

    [Test]
    public void ShapeMismatchLse() => AssertNames<ArgumentException>(() => Fwd(lse: T(ScalarType.Float32, B, Sq, Hq)), "softmaxLse");

    [Test]
    public void ShapeMismatchDOutput() => AssertNames<ArgumentException>(() => Bwd(dOut: T(ScalarType.Float32, B, Sq, Hq, D + 8)), "dOutput");

    [Test]
    public void ShapeMismatchDq() => AssertNames<ArgumentException>(() => Bwd(dq: T(ScalarType.Float32, B, Sq, Hk, D)), "dq");

    [Test]
    public void ShapeMismatchDk() => AssertNames<ArgumentException>(() => Bwd(dk: T(ScalarType.Float32, B, Sq, Hk, D)), "dk");

    [Test]
    public void MixedDtypeK() => AssertNames<ArgumentException>(() => Fwd(k: K(ScalarType.Float16)), "k", "dtype");

    [Test]
    public void MixedDtypeOutput() => AssertNames<ArgumentException>(() => Fwd(o: Q(ScalarType.BFloat16)), "output", "dtype");

    [Test]
    public void MixedDtypeDv() => AssertNames<ArgumentException>(() => Bwd(dv: K(ScalarType.Float16)), "dv", "dtype");

    [Test]
    public void LseNotFloat32() => AssertNames<ArgumentException>(() => Fwd(lse: T(ScalarType.Float16, B, Hq, Sq)), "softmaxLse", "Float32");

    [Test]
    public void Fp8BackwardRejected() =>
        AssertNames<ArgumentException>(() => FlashAttention.Backward(Q(ScalarType.Float8E4M3), K(ScalarType.Float8E4M3), K(ScalarType.Float8E4M3),
            Q(ScalarType.BFloat16), Lse(), Q(ScalarType.BFloat16), Q(ScalarType.BFloat16), K(ScalarType.BFloat16), K(ScalarType.BFloat16)), "q", "Float8E4M3");

    [TestCase(0)]
    [TestCase(257)]
    [TestCase(512)]
    public void UnsupportedHeadDim(int d) =>
        AssertNames<ArgumentOutOfRangeException>(() => Fwd(q: T(ScalarType.Float32, B, Sq, Hq, d), k: T(ScalarType.Float32, B, Sk, Hk, d),
            v: T(ScalarType.Float32, B, Sk, Hk, d), o: T(ScalarType.Float32, B, Sq, Hq, d)), "q", "head_dim");

    [Test]
    public void HeadsNotMultiple() =>
        AssertNames<ArgumentException>(() => Fwd(k: T(ScalarType.Float32, B, Sk, 3, D), v: T(ScalarType.Float32, B, Sk, 3, D)), "k", "multiple");

    [Test]
    public void ZeroBatch() =>
        AssertNames<ArgumentOutOfRangeException>(() => Fwd(q: T(ScalarType.Float32, 0, Sq, Hq, D)), "q", "batch");

    [Test]
    public void ZeroSeqlenQ() =>
        AssertNames<ArgumentOutOfRangeException>(() => Fwd(q: T(ScalarType.Float32, B, 0, Hq, D)), "q", "seqlen_q");

    [Test]
    public void ZeroSeqlenK() =>
        AssertNames<ArgumentOutOfRangeException>(() => Fwd(k: T(ScalarType.Float32, B, 0, Hk, D)), "k", "seqlen_k");

    [Test]
    public void HeadDimStrideNotOne()
    {
        TensorView q = Q();
        var strided = new TensorView(q.Data, ScalarType.Float32, [B, Sq, Hq, D / 2], [Sq * Hq * D, Hq * D, D, 2]);
        AssertNames<ArgumentException>(() => Fwd(q: strided, k: T(ScalarType.Float32, B, Sk, Hk, D / 2), v: T(ScalarType.Float32, B, Sk, Hk, D / 2),
            o: T(ScalarType.Float32, B, Sq, Hq, D / 2)), "q", "head_dim stride");
    }

    [Test]
    public void NegativeStride()
    {
        TensorView k = K();
        var bad = new TensorView(k.Data, ScalarType.Float32, [B, Sk, Hk, D], [Sk * Hk * D, -Hk * D, D, 1]);
        AssertNames<ArgumentException>(() => Fwd(k: bad), "k", "negative");
    }

    [Test]
    public void OverlappingOutput()
    {
        TensorView o = Q();
        var overlapping = new TensorView(o.Data, ScalarType.Float32, [B, Sq, Hq, D], [Sq * Hq * D, 0, D, 1]);
        AssertNames<ArgumentException>(() => Fwd(o: overlapping), "output", "overlap");
    }

    [Test]
    public void NonContiguousLse()
    {
        TensorView l = T(ScalarType.Float32, B, Hq, Sq * 2);
        var strided = new TensorView(l.Data, ScalarType.Float32, [B, Hq, Sq], [Hq * Sq * 2, Sq * 2, 1]);
        AssertNames<ArgumentException>(() => Fwd(lse: strided), "softmaxLse", "contiguous");
    }

    [Test]
    public void DeviceMix()
    {
        var kOnGpu = new TensorView(K().Data, ScalarType.Float32, [B, Sk, Hk, D], TensorView.ContiguousStrides([B, Sk, Hk, D]), Device.Cuda(0));
        AssertNames<ArgumentException>(() => Fwd(k: kOnGpu), "k", "cuda:0");
    }

    [TestCase(float.NaN)]
    [TestCase(-1f)]
    [TestCase(0f)]
    [TestCase(float.PositiveInfinity)]
    public void BadSoftmaxScale(float scale) =>
        AssertNames<ArgumentOutOfRangeException>(() => Fwd(options: new AttentionOptions { SoftmaxScale = scale }), "options", "SoftmaxScale");

    [Test]
    public void CudaBackendForCpuTensors() =>
        AssertNames<ArgumentException>(() => Fwd(options: new AttentionOptions { Backend = AttentionBackend.CudaSm80 }), "options", "Backend");

    [Test]
    public void UndefinedBackend() =>
        AssertNames<ArgumentOutOfRangeException>(() => Fwd(options: new AttentionOptions { Backend = (AttentionBackend)42 }), "options", "Backend");

    [Test]
    public void WorkspaceBytesWithoutPointer() =>
        AssertNames<ArgumentException>(() => Fwd(options: new AttentionOptions { WorkspaceBytes = 1024 }), "options", "Workspace");

    [Test]
    public void VarlenPrefixMustStartAtZero()
    {
        int[] cuQ = [1, 4, 10], cuK = [0, 7, 14];
        fixed (int* pq = cuQ, pk = cuK)
        {
            var options = new AttentionOptions { Varlen = new VarlenLayout((nint)pq, (nint)pk, 2, 6, 7) };
            AssertNames<ArgumentException>(() => FlashAttention.Forward(T(ScalarType.Float32, 10, Hq, D), T(ScalarType.Float32, 14, Hk, D),
                T(ScalarType.Float32, 14, Hk, D), T(ScalarType.Float32, 10, Hq, D), T(ScalarType.Float32, Hq, 10), options), "options", "CuSeqlensQ[0]");
        }
    }

    [Test]
    public void VarlenSequenceLongerThanDeclaredMax()
    {
        int[] cuQ = [0, 4, 10], cuK = [0, 7, 14];
        fixed (int* pq = cuQ, pk = cuK)
        {
            var options = new AttentionOptions { Varlen = new VarlenLayout((nint)pq, (nint)pk, 2, 6, 5) };
            AssertNames<ArgumentException>(() => FlashAttention.Forward(T(ScalarType.Float32, 10, Hq, D), T(ScalarType.Float32, 14, Hk, D),
                T(ScalarType.Float32, 14, Hk, D), T(ScalarType.Float32, 10, Hq, D), T(ScalarType.Float32, Hq, 10), options), "options", "CuSeqlensK");
        }
    }

    [Test]
    public void VarlenNullPrefixSums()
    {
        var options = new AttentionOptions { Varlen = new VarlenLayout(0, 0, 2, 6, 7) };
        AssertNames<ArgumentNullException>(() => FlashAttention.Forward(T(ScalarType.Float32, 10, Hq, D), T(ScalarType.Float32, 14, Hk, D),
            T(ScalarType.Float32, 14, Hk, D), T(ScalarType.Float32, 10, Hq, D), T(ScalarType.Float32, Hq, 10), options), "options", "CuSeqlensQ");
    }

    // ---- managed-array API ----

    private static readonly AttentionShape Shape = new(B, Sq, Sk, Hq, Hk, D);

    [Test]
    public void SpanTooShortForShape()
    {
        var q = new float[Shape.QElements - 1];
        var kv = new float[Shape.KElements];
        AssertNames<ArgumentException>(() => FlashAttention.Forward<float>(q, kv, kv, Shape), "q", $"{Shape.QElements}");
    }

    [Test]
    public void OutputSpanWrongLength()
    {
        var q = new float[Shape.QElements];
        var kv = new float[Shape.KElements];
        AssertNames<ArgumentException>(() => FlashAttention.Forward<float>(q, kv, kv, new float[3], new float[Shape.LseElements], Shape), "output");
    }

    [Test]
    public void GradientSpanWrongLength()
    {
        var q = new float[Shape.QElements];
        var kv = new float[Shape.KElements];
        var lse = new float[Shape.LseElements];
        AssertNames<ArgumentException>(() => FlashAttention.Backward<float>(q, kv, kv, q, lse, q, q, new float[5], kv, Shape), "dk");
    }

    [Test]
    public void UnsupportedElementType()
    {
        var q = new int[Shape.QElements];
        var kv = new int[Shape.KElements];
        AssertNames<ArgumentException>(() => FlashAttention.Forward<int>(q, kv, kv, Shape), "T", "System.Int32");
    }

    [Test]
    public void ManagedShapeHeadsNotMultiple() =>
        AssertNames<ArgumentException>(() => FlashAttention.Forward<float>(new float[1], new float[1], new float[1], Shape with { NumHeadsKv = 3 }), "shape", "NumHeadsKv");

    [Test]
    public void ManagedShapeZeroBatch() =>
        AssertNames<ArgumentOutOfRangeException>(() => FlashAttention.Forward<float>(new float[1], new float[1], new float[1], Shape with { Batch = 0 }), "shape", "Batch");

    [Test]
    public void ManagedShapeHeadDimTooLarge() =>
        AssertNames<ArgumentOutOfRangeException>(() => FlashAttention.Forward<float>(new float[1], new float[1], new float[1], Shape with { HeadDim = 300 }), "shape", "HeadDim");

    [Test]
    public void ManagedVarlenDecreasingPrefix() =>
        AssertNames<ArgumentException>(() => FlashAttention.Forward<float>(new float[1], new float[1], new float[1],
            new VarlenShape([0, 5, 3], [0, 2, 4], 1, 1, 8)), "shape", "non-decreasing");

    [Test]
    public void ManagedVarlenRejectsOptionsVarlen()
    {
        var shape = new VarlenShape([0, 2], [0, 2], 1, 1, 8);
        var options = new AttentionOptions { Varlen = new VarlenLayout(1, 1, 1, 1, 1) };
        AssertNames<ArgumentException>(() => FlashAttention.Forward<float>(new float[16], new float[16], new float[16], shape, options), "options", "Varlen");
    }

    // ---- views, buffers, native failures ----

    [Test]
    public void TensorViewStridesLengthMismatch() =>
        AssertNames<ArgumentException>(() => new TensorView(1, ScalarType.Float32, [2, 3], [3]), "strides");

    [Test]
    public void TensorViewNegativeDimension() =>
        AssertNames<ArgumentOutOfRangeException>(() => new TensorView(1, ScalarType.Float32, [2, -3], [3, 1]), "shape");

    [Test]
    public void CudaTensorsOnCpuOnlyLibraryFailNatively()
    {
        if (FlashAttention.HasCuda)
            Assert.Ignore("The library has CUDA: this case is covered by the GPU tests.");
        Device gpu = Device.Cuda(0);
        nint next = 0x10000;  // distinct fake device addresses, so no output appears to alias an input
        TensorView G(long[] shape, ScalarType type = ScalarType.Float16)
        {
            next += 0x100000;
            return new(next, type, shape, TensorView.ContiguousStrides(shape), gpu);
        }
        var e = Assert.Throws<FlashAttnNativeException>(() => FlashAttention.Forward(
            G([B, Sq, Hq, D]), G([B, Sk, Hk, D]), G([B, Sk, Hk, D]), G([B, Sq, Hq, D]), G([B, Hq, Sq], ScalarType.Float32)))!;
        Assert.That(e.Status, Is.EqualTo(FlashAttnStatus.BackendUnavailable), e.Message);
        Assert.That(e.NativeMessage, Is.Not.Empty);
        Assert.That(e.Operation, Is.EqualTo("fa_mha_fwd"));
    }

    [Test]
    public void CudaHeadDimNotMultipleOf8()
    {
        // Rejected in managed code before the library sees the (fake) device pointers.
        TensorView G(long[] shape, ScalarType type = ScalarType.Float16) =>
            new(0x1000, type, shape, TensorView.ContiguousStrides(shape), Device.Cuda(0));
        AssertNames<ArgumentException>(() => FlashAttention.Forward(G([B, Sq, Hq, 20]), G([B, Sk, Hk, 20]), G([B, Sk, Hk, 20]),
            G([B, Sq, Hq, 20]), G([B, Hq, Sq], ScalarType.Float32)), "q", "multiple of 8");
    }

    [Test]
    public void CudaAllocationWithoutCudaFailsNatively()
    {
        if (FlashAttention.HasCuda)
            Assert.Ignore("The library has CUDA.");
        var e = Assert.Throws<FlashAttnNativeException>(() => new DeviceBuffer(0, 1024))!;
        Assert.That(e.Status, Is.EqualTo(FlashAttnStatus.BackendUnavailable), e.Message);
    }

    private static void AssertAliasRefused(TestDelegate call, string output, string input, string operation)
    {
        var e = Assert.Throws<FlashAttnNativeException>(call)!;
        Assert.That(e.Status, Is.EqualTo(FlashAttnStatus.InvalidArgument), e.Message);
        Assert.That(e.Operation, Is.EqualTo(operation));
        Assert.That(e.NativeMessage, Does.Contain($"{output} overlaps {input}"));
    }

    [Test]
    public void InPlaceForwardIsRefused()
    {
        TensorView q = Q();
        AssertAliasRefused(() => Fwd(q: q, o: q), "out", "q", "fa_mha_fwd");
    }

    [Test]
    public void GradientAliasingAnInputIsRefused()
    {
        TensorView dOut = Q();
        AssertAliasRefused(() => Bwd(dOut: dOut, dq: dOut), "dq", "dout", "fa_mha_bwd");
    }

    [Test]
    public void GradientsSharingAnAddressAreRefused()
    {
        TensorView dk = K();
        var e = Assert.Throws<FlashAttnNativeException>(() => Bwd(dk: dk, dv: dk))!;
        Assert.That(e.Status, Is.EqualTo(FlashAttnStatus.InvalidArgument), e.Message);
        Assert.That(e.NativeMessage, Does.Contain("dk and dv point at the same memory"));
    }

    [Test]
    public void DeviceBufferRejectsZeroBytes() =>
        AssertNames<ArgumentOutOfRangeException>(() => new DeviceBuffer(0, 0), "bytes");
}
