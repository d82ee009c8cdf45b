using FlashAttn;
using FlashAttn.Tests.Support;

namespace FlashAttn.Tests;

/// <summary>
/// The CPU checks repeated on CUDA through the library's device-memory helpers. Ignored (not failed)
/// where the library has no CUDA or no device is visible; run on a GPU machine with
/// <c>--filter-trait Category=Gpu</c> or simply the whole suite.
/// </summary>
[TestFixture]
[Category("Gpu")]
public class GpuTests
{
    [SetUp]
    public void RequireCuda() => GpuRunner.RequireCuda();

    private static readonly int[] HeadDims = [32, 64, 96, 128, 192, 256];
    private static readonly ScalarType[] Types = [ScalarType.Float16, ScalarType.BFloat16];
    private static readonly (int Q, int K)[] Seqlens =
        [(1, 1), (113, 203), (128, 128), (239, 1), (1, 239), (799, 3), (3, 799), (1024, 1024), (257, 513), (2049, 97), (97, 2049), (512, 257)];
    private static readonly (int Q, int Kv, string Name)[] Heads = [(4, 4, "MHA"), (6, 2, "GQA"), (4, 1, "MQA")];

    public static IEnumerable<TestCaseData> Grid()
    {
        int i = 0;
        foreach (int d in HeadDims)
            foreach (ScalarType type in Types)
                foreach (bool causal in new[] { false, true })
                {
                    var (sq, sk) = Seqlens[(i * 5) % Seqlens.Length];
                    var heads = Heads[i % Heads.Length];
                    // Keep the float64 reference affordable for the long sequences.
                    bool large = (long)sq * sk > 200_000;
                    int batch = large ? 1 : 2;
                    (int hq, int hkv) = !large ? (heads.Q, heads.Kv) : heads.Name switch { "MHA" => (2, 2), "GQA" => (4, 2), _ => (2, 1) };
                    yield return new TestCaseData(type, causal, batch, sq, sk, hq, hkv, d)
                        .SetArgDisplayNames(type.ToString(), causal ? "causal" : "full", $"b{batch}", $"sq{sq}", $"sk{sk}", $"hq{hq}", $"hkv{hkv}", $"d{d}");
                    i++;
                }
    }

    [TestCaseSource(nameof(Grid))]
    public void ForwardAndBackwardMatchReference(ScalarType type, bool causal, int batch, int sq, int sk, int hq, int hkv, int d)
    {
        var c = new AttentionCase(new AttentionShape(batch, sq, sk, hq, hkv, d), type, causal, seed: Seeds.Of((int)type, causal ? 1 : 0, sq, sk, hq, d));
        CpuRunner.Result r = GpuRunner.Run(c, backward: true);
        c.CheckForward(r.Output, r.Lse);
        c.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
    }

    [TestCase(ScalarType.Float16, 64)]
    [TestCase(ScalarType.BFloat16, 96)]
    [TestCase(ScalarType.BFloat16, 128)]
    [TestCase(ScalarType.Float16, 256)]
    [TestCase(ScalarType.Float16, 80)]   // runs padded on the head_dim-96 kernel
    [TestCase(ScalarType.BFloat16, 160)] // on the head_dim-192 kernel
    public void Sm90ForwardMatchesReference(ScalarType type, int d)
    {
        if ((FlashAttention.Capabilities & FlashAttnCapabilities.CudaSm90) == 0 || GpuRunner.ComputeCapability != 90)
            Assert.Ignore("Needs the FA3 (sm90) kernels and a compute capability 9.0 device.");
        foreach (bool causal in new[] { false, true })
        {
            var c = new AttentionCase(new AttentionShape(2, 333, 517, 8, 2, d), type, causal, seed: d);
            AttentionOptions options = c.Options();
            options.Backend = AttentionBackend.CudaSm90;
            CpuRunner.Result r = GpuRunner.Run(c, backward: false, options);
            c.CheckForward(r.Output, r.Lse);
        }
    }

    [TestCase(ScalarType.BFloat16, 64, 333, 517)]
    [TestCase(ScalarType.Float16, 128, 333, 517)]
    [TestCase(ScalarType.BFloat16, 40, 200, 130)]  // runs padded on the head_dim-64 kernel
    [TestCase(ScalarType.Float16, 96, 517, 333)]   // on the head_dim-128 kernel
    [TestCase(ScalarType.BFloat16, 128, 8200, 300)] // the head_dim-128 kernel without the dQ split (8192 rows on)
    public void Sm90BackwardMatchesReference(ScalarType type, int d, int sq, int sk)
    {
        RequireSm90();
        foreach (bool causal in new[] { false, true })
        {
            var c = new AttentionCase(new AttentionShape(1, sq, sk, 4, 2, d), type, causal, seed: d + sq);
            AttentionOptions options = c.Options();
            options.Backend = AttentionBackend.CudaSm90;
            CpuRunner.Result r = GpuRunner.Run(c, backward: true, options);
            c.CheckForward(r.Output, r.Lse);
            c.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
        }
    }

    [Test]
    public void Sm90BackwardRefusesWhatItCannotRun()
    {
        RequireSm90();
        // head_dim 192 and the deterministic mode: CUDA_SM90 names why; Auto falls back to CUDA_SM80.
        var big = new AttentionCase(new AttentionShape(1, 64, 64, 2, 2, 192), ScalarType.BFloat16, causal: false, seed: 3);
        AttentionOptions options = big.Options();
        options.Backend = AttentionBackend.CudaSm90;
        var e = Assert.Throws<FlashAttnNativeException>(() => GpuRunner.Run(big, backward: true, options))!;
        Assert.That(e.Status, Is.EqualTo(FlashAttnStatus.Unsupported), e.Message);
        Assert.That(e.NativeMessage, Does.Contain("backend CUDA_SM90 cannot run this backward"));
        Assert.That(e.NativeMessage, Does.Contain("head_dim multiples of 8 up to 128, not 192"));

        var det = new AttentionCase(new AttentionShape(1, 64, 64, 2, 2, 64), ScalarType.BFloat16, causal: true, seed: 4);
        options = det.Options();
        options.Backend = AttentionBackend.CudaSm90;
        options.Deterministic = true;
        e = Assert.Throws<FlashAttnNativeException>(() => GpuRunner.Run(det, backward: true, options))!;
        Assert.That(e.Status, Is.EqualTo(FlashAttnStatus.Unsupported), e.Message);
        Assert.That(e.NativeMessage, Does.Contain("not deterministic"));

        options.Backend = AttentionBackend.Auto;
        CpuRunner.Result r = GpuRunner.Run(det, backward: true, options);
        det.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
    }

    private static void RequireSm90()
    {
        if ((FlashAttention.Capabilities & FlashAttnCapabilities.CudaSm90) == 0 || GpuRunner.ComputeCapability != 90)
            Assert.Ignore("Needs the FA3 (sm90) kernels and a compute capability 9.0 device.");
    }

    [Test]
    public void AutoPicksACudaBackendForCudaTensors()
    {
        var s = new AttentionShape(1, 16, 16, 2, 2, 64);
        using var q = new DeviceBuffer(GpuRunner.DeviceIndex, s.QElements * 2);
        using var k = new DeviceBuffer(GpuRunner.DeviceIndex, s.KElements * 2);
        using var o = new DeviceBuffer(GpuRunner.DeviceIndex, s.QElements * 2);
        using var lse = new DeviceBuffer(GpuRunner.DeviceIndex, s.LseElements * 4);
        AttentionBackend fwd = FlashAttention.SelectBackend(q.View(ScalarType.Float16, s.QShape), k.View(ScalarType.Float16, s.KShape),
            k.View(ScalarType.Float16, s.KShape), o.View(ScalarType.Float16, s.QShape), lse.View(ScalarType.Float32, s.LseShape));
        Assert.That(fwd, Is.EqualTo(AttentionBackend.CudaSm80).Or.EqualTo(AttentionBackend.CudaSm90));
        TestContext.Out.WriteLine($"sm{GpuRunner.ComputeCapability}: forward runs on {fwd}");
    }

    [Test]
    public unsafe void DeviceMemoryDescribedAsCpuIsRefused()
    {
        var s = new AttentionShape(1, 16, 16, 2, 2, 64);
        using var q = new DeviceBuffer(GpuRunner.DeviceIndex, s.QElements * 4);
        var k = new float[s.KElements];
        var o = new float[s.QElements];
        var lse = new float[s.LseElements];
        fixed (float* pk = k, po = o, pl = lse)
        {
            // q is device memory but its view says CPU: the CPU backend must refuse it, not fault on it.
            var qView = new TensorView(q.Pointer, ScalarType.Float32, s.QShape, TensorView.ContiguousStrides(s.QShape), Device.Cpu);
            TensorView kView = TensorView.Contiguous((nint)pk, ScalarType.Float32, s.KShape);
            TensorView oView = TensorView.Contiguous((nint)po, ScalarType.Float32, s.QShape);
            TensorView lseView = TensorView.Contiguous((nint)pl, ScalarType.Float32, s.LseShape);
            var e = Assert.Throws<FlashAttnNativeException>(() => FlashAttention.Forward(qView, kView, kView, oView, lseView))!;
            Assert.That(e.Status, Is.EqualTo(FlashAttnStatus.InvalidArgument), e.Message);
            Assert.That(e.NativeMessage, Does.Contain("q is memory of CUDA device"));
        }
    }

    [TestCase(ScalarType.Float16)]
    [TestCase(ScalarType.BFloat16)]
    public void PackedQkvOnDevice(ScalarType type)
    {
        if (type == ScalarType.Float16) PackedQkv<Half>(type); else PackedQkv<BFloat16>(type);
    }

    private static void PackedQkv<T>(ScalarType type) where T : unmanaged
    {
        const int b = 2, s = 173, h = 4, d = 64;
        var shape = new AttentionShape(b, s, s, h, h, d);
        var c = new AttentionCase(shape, type, causal: true, seed: 5);
        long[] dims = [b, s, h, d];
        long[] strides = [s * 3L * h * d, 3L * h * d, d, 1];
        // Interleave on the host, upload once, view q/k/v at offsets 0, h·d, 2·h·d.
        var host = new T[b * s * 3 * h * d];
        using (var hq = new StridedBuffer<T>(host, 0, dims, strides)) hq.Scatter(c.Q);
        using (var hk = new StridedBuffer<T>(host, h * d, dims, strides)) hk.Scatter(c.K);
        using (var hv = new StridedBuffer<T>(host, 2 * h * d, dims, strides)) hv.Scatter(c.V);
        using var qkv = DeviceBuffer.FromSpan<T>(GpuRunner.DeviceIndex, host);
        using var dqkv = DeviceBuffer.FromSpan<T>(GpuRunner.DeviceIndex, Num.Poisoned<T>(host.Length));
        using var o = DeviceBuffer.FromSpan<T>(GpuRunner.DeviceIndex, Num.Poisoned<T>(shape.QElements));
        using var dOut = DeviceBuffer.FromSpan<T>(GpuRunner.DeviceIndex, Num.Convert<T>(c.DOut));
        using var lse = DeviceBuffer.FromSpan<float>(GpuRunner.DeviceIndex, Num.Poisoned<float>(shape.LseElements));
        TensorView At(DeviceBuffer buf, int which) => buf.View(type, dims, strides, which * h * d);
        AttentionOptions options = c.Options();
        FlashAttention.Forward(At(qkv, 0), At(qkv, 1), At(qkv, 2), o.View(type, dims), lse.View(ScalarType.Float32, shape.LseShape), options);
        FlashAttention.Backward(At(qkv, 0), At(qkv, 1), At(qkv, 2), o.View(type, dims), lse.View(ScalarType.Float32, shape.LseShape),
            dOut.View(type, dims), At(dqkv, 0), At(dqkv, 1), At(dqkv, 2), options);
        CudaMemory.Synchronize(GpuRunner.DeviceIndex);
        c.CheckForward(Num.ToDoubles<T>(o.ToArray<T>()), Num.ToDoubles<float>(lse.ToArray<float>()));
        T[] grads = dqkv.ToArray<T>();
        using var gq = new StridedBuffer<T>(grads, 0, dims, strides);
        using var gk = new StridedBuffer<T>(grads, h * d, dims, strides);
        using var gv = new StridedBuffer<T>(grads, 2 * h * d, dims, strides);
        c.CheckBackward(gq.Gather(), gk.Gather(), gv.Gather());
    }

    [TestCase(AttentionBackend.CudaSm80)]
    [TestCase(AttentionBackend.CudaSm90)]
    public void VarlenOnDevice(AttentionBackend backend)
    {
        if (backend == AttentionBackend.CudaSm90 &&
            ((FlashAttention.Capabilities & FlashAttnCapabilities.CudaSm90) == 0 || GpuRunner.ComputeCapability != 90))
            Assert.Ignore("Needs the FA3 (sm90) kernels and a compute capability 9.0 device.");
        int[] lensQ = [5, 0, 170, 1, 300], lensK = [7, 3, 170, 90, 12];
        const int hq = 4, hk = 2, d = 128;
        int[] cuQ = new int[6], cuK = new int[6];
        for (int i = 0; i < 5; i++) { cuQ[i + 1] = cuQ[i] + lensQ[i]; cuK[i + 1] = cuK[i] + lensK[i]; }
        int totalQ = cuQ[^1], totalK = cuK[^1];
        var rng = new Random(Seeds.Of(12));
        double[] q = Num.RandomNormal(rng, (long)totalQ * hq * d, ScalarType.BFloat16);
        double[] k = Num.RandomNormal(rng, (long)totalK * hk * d, ScalarType.BFloat16);
        double[] v = Num.RandomNormal(rng, (long)totalK * hk * d, ScalarType.BFloat16);
        using var dq = DeviceBuffer.FromSpan<BFloat16>(0, Num.Convert<BFloat16>(q));
        using var dk = DeviceBuffer.FromSpan<BFloat16>(0, Num.Convert<BFloat16>(k));
        using var dv = DeviceBuffer.FromSpan<BFloat16>(0, Num.Convert<BFloat16>(v));
        using var o = DeviceBuffer.FromSpan<BFloat16>(0, Num.Poisoned<BFloat16>(q.Length));
        using var lse = DeviceBuffer.FromSpan<float>(0, Num.Poisoned<float>((long)hq * totalQ));
        using var cuq = DeviceBuffer.FromSpan<int>(0, cuQ);
        using var cuk = DeviceBuffer.FromSpan<int>(0, cuK);
        var options = new AttentionOptions
        {
            Causal = true, Backend = backend, Varlen = new VarlenLayout(cuq.Pointer, cuk.Pointer, 5, 300, 170),
        };
        const ScalarType bf = ScalarType.BFloat16;
        FlashAttention.Forward(dq.View(bf, totalQ, hq, d), dk.View(bf, totalK, hk, d), dv.View(bf, totalK, hk, d),
            o.View(bf, totalQ, hq, d), lse.View(ScalarType.Float32, hq, totalQ), options);
        // The backward on the same backend (CUDA_SM90: the Hopper backward takes packed batches too).
        double[] dOut = Num.RandomNormal(rng, q.Length, bf);
        using var dO = DeviceBuffer.FromSpan<BFloat16>(0, Num.Convert<BFloat16>(dOut));
        using var gq = DeviceBuffer.FromSpan<BFloat16>(0, Num.Poisoned<BFloat16>(q.Length));
        using var gk = DeviceBuffer.FromSpan<BFloat16>(0, Num.Poisoned<BFloat16>(k.Length));
        using var gv = DeviceBuffer.FromSpan<BFloat16>(0, Num.Poisoned<BFloat16>(v.Length));
        FlashAttention.Backward(dq.View(bf, totalQ, hq, d), dk.View(bf, totalK, hk, d), dv.View(bf, totalK, hk, d),
            o.View(bf, totalQ, hq, d), lse.View(ScalarType.Float32, hq, totalQ), dO.View(bf, totalQ, hq, d),
            gq.View(bf, totalQ, hq, d), gk.View(bf, totalK, hk, d), gv.View(bf, totalK, hk, d), options);
        CudaMemory.Synchronize(0);
        double[] output = Num.ToDoubles<BFloat16>(o.ToArray<BFloat16>());
        float[] lseAll = lse.ToArray<float>();
        double[] gradQ = Num.ToDoubles<BFloat16>(gq.ToArray<BFloat16>());
        double[] gradK = Num.ToDoubles<BFloat16>(gk.ToArray<BFloat16>());
        double[] gradV = Num.ToDoubles<BFloat16>(gv.ToArray<BFloat16>());
        // Keys of the sequence without queries get zero gradients.
        Assert.That(gradK[(cuK[1] * hk * d)..(cuK[2] * hk * d)], Is.All.EqualTo(0.0));
        Assert.That(gradV[(cuK[1] * hk * d)..(cuK[2] * hk * d)], Is.All.EqualTo(0.0));
        float scale = (float)(1 / Math.Sqrt(d));
        for (int b = 0; b < 5; b++)
        {
            if (lensQ[b] == 0) continue;
            var s = new AttentionShape(1, lensQ[b], lensK[b], hq, hk, d);
            double[] sq = q[(cuQ[b] * hq * d)..(cuQ[b + 1] * hq * d)];
            double[] sk = k[(cuK[b] * hk * d)..(cuK[b + 1] * hk * d)];
            double[] sv = v[(cuK[b] * hk * d)..(cuK[b + 1] * hk * d)];
            var exact = AttentionMath.Exact.Forward(sq, sk, sv, s, scale, true);
            var naive = AttentionMath.Naive(bf).Forward(sq, sk, sv, s, scale, true);
            Tolerance.AssertClose($"output of sequence {b}", output[(cuQ[b] * hq * d)..(cuQ[b + 1] * hq * d)], exact.Output, naive.Output, bf, d);
            // Varlen LSE is (heads, total_q).
            var ourLse = new double[hq * lensQ[b]];
            for (int h = 0; h < hq; h++)
                for (int i = 0; i < lensQ[b]; i++)
                    ourLse[h * lensQ[b] + i] = lseAll[h * totalQ + cuQ[b] + i];
            Tolerance.AssertLseClose(ourLse, exact.Lse, naive.Lse);
            double[] sdo = dOut[(cuQ[b] * hq * d)..(cuQ[b + 1] * hq * d)];
            var ge = AttentionMath.Exact.Backward(sq, sk, sv, exact.Output, sdo, s, scale, true);
            var gn = AttentionMath.Naive(bf).Backward(sq, sk, sv, naive.Output, sdo, s, scale, true);
            Tolerance.AssertClose($"dq of sequence {b}", gradQ[(cuQ[b] * hq * d)..(cuQ[b + 1] * hq * d)], ge.Dq, gn.Dq, bf, d);
            Tolerance.AssertClose($"dk of sequence {b}", gradK[(cuK[b] * hk * d)..(cuK[b + 1] * hk * d)], ge.Dk, gn.Dk, bf, d);
            Tolerance.AssertClose($"dv of sequence {b}", gradV[(cuK[b] * hk * d)..(cuK[b + 1] * hk * d)], ge.Dv, gn.Dv, bf, d);
        }
    }

    [TestCase(ScalarType.Float16)]
    [TestCase(ScalarType.BFloat16)]
    public void DeterministicBackwardIsBitwiseReproducible(ScalarType type)
    {
        var c = new AttentionCase(new AttentionShape(2, 515, 515, 8, 2, 128), type, causal: false, seed: 21);
        AttentionOptions options = c.Options(deterministic: true);
        CpuRunner.Result a = GpuRunner.Run(c, backward: true, options);
        CpuRunner.Result b = GpuRunner.Run(c, backward: true, options);
        Assert.That(b.Output, Is.EqualTo(a.Output));
        Assert.That(b.Dq, Is.EqualTo(a.Dq));
        Assert.That(b.Dk, Is.EqualTo(a.Dk));
        Assert.That(b.Dv, Is.EqualTo(a.Dv));
    }

    [Test]
    public void FullyMaskedRowsOnDevice()
    {
        var c = new AttentionCase(new AttentionShape(2, 200, 64, 4, 4, 64), ScalarType.Float16, causal: true, seed: 3);
        CpuRunner.Result r = GpuRunner.Run(c, backward: true);
        c.CheckForward(r.Output, r.Lse);
        c.CheckBackward(r.Dq!, r.Dk!, r.Dv!);
    }

    [Test]
    public void CallerWorkspaceGivesTheSameGradients()
    {
        var c = new AttentionCase(new AttentionShape(1, 300, 300, 4, 4, 64), ScalarType.BFloat16, causal: true, seed: 14);
        AttentionOptions det = c.Options(deterministic: true);
        CpuRunner.Result baseline = GpuRunner.Run(c, backward: true, det);
        var s = c.Shape;
        // Nine tensors in one allocation, each in its own region: outputs may not alias inputs.
        long region = 4 * Math.Max(s.QElements, Math.Max(s.KElements, s.LseElements));
        using var memory = new DeviceBuffer(0, 9 * region);
        const ScalarType bf = ScalarType.BFloat16;
        int used = 0;
        TensorView Next(long[] shape, ScalarType type = bf) =>
            memory.View(type, shape, TensorView.ContiguousStrides(shape), used++ * region / type.ElementSize());
        ulong bytes = FlashAttention.BackwardWorkspaceSize(Next(s.QShape), Next(s.KShape), Next(s.KShape), Next(s.QShape),
            Next(s.LseShape, ScalarType.Float32), Next(s.QShape), Next(s.QShape), Next(s.KShape), Next(s.KShape), det);
        TestContext.Out.WriteLine($"backward workspace: {bytes} bytes");
        if (bytes == 0) return;
        using var workspace = new DeviceBuffer(0, (long)bytes);
        AttentionOptions withWs = det.Clone();
        withWs.Workspace = workspace.Pointer;
        withWs.WorkspaceBytes = bytes;
        CpuRunner.Result r = GpuRunner.Run(c, backward: true, withWs);
        Assert.That(r.Dq, Is.EqualTo(baseline.Dq));
        Assert.That(r.Dk, Is.EqualTo(baseline.Dk));
        Assert.That(r.Dv, Is.EqualTo(baseline.Dv));
    }

    [Test]
    public void Fp8ForwardOnHopper()
    {
        if ((FlashAttention.Capabilities & FlashAttnCapabilities.Fp8) == 0 || GpuRunner.ComputeCapability != 90)
            Assert.Ignore("Needs FP8 kernels and a compute capability 9.0 device.");
        var s = new AttentionShape(2, 257, 383, 4, 2, 128);
        var rng = new Random(Seeds.Of(8));
        double[] q = Float8.RandomExact(rng, s.QElements), k = Float8.RandomExact(rng, s.KElements), v = Float8.RandomExact(rng, s.KElements);
        byte[] Enc(double[] x) => x.Select(Float8.EncodeExact).ToArray();
        using var dq = DeviceBuffer.FromSpan<byte>(0, Enc(q));
        using var dk = DeviceBuffer.FromSpan<byte>(0, Enc(k));
        using var dv = DeviceBuffer.FromSpan<byte>(0, Enc(v));
        using var o = DeviceBuffer.FromSpan<BFloat16>(0, Num.Poisoned<BFloat16>(s.QElements));
        using var lse = DeviceBuffer.FromSpan<float>(0, Num.Poisoned<float>(s.LseElements));
        const ScalarType f8 = ScalarType.Float8E4M3;
        float scale = (float)(1 / Math.Sqrt(128));
        FlashAttention.Forward(dq.View(f8, s.QShape), dk.View(f8, s.KShape), dv.View(f8, s.KShape), o.View(ScalarType.BFloat16, s.QShape),
            lse.View(ScalarType.Float32, s.LseShape), new AttentionOptions { SoftmaxScale = scale });
        CudaMemory.Synchronize(0);
        var exact = AttentionMath.Exact.Forward(q, k, v, s, scale, false);
        // FP8 kernels also quantize P to e4m3 for the second matmul: grade against a naive run that rounds
        // intermediates to bf16, with a 4x allowance for the coarser P.
        var naive = AttentionMath.Naive(ScalarType.BFloat16).Forward(q, k, v, s, scale, false);
        Tolerance.AssertClose("fp8 output", Num.ToDoubles<BFloat16>(o.ToArray<BFloat16>()), exact.Output, naive.Output, ScalarType.BFloat16, 128, naiveFactor: 8);
    }
}
