using FlashAttn;

namespace FlashAttn.Tests.Support;

/// <summary>Runs an <see cref="AttentionCase"/> through the managed span API on the CPU, outputs poisoned with NaN first.</summary>
internal static class CpuRunner
{
    public sealed record Result(double[] Output, double[] Lse, double[]? Dq, double[]? Dk, double[]? Dv);

    public static Result Run(AttentionCase c, bool backward, AttentionOptions? options = null) => c.Type switch
    {
        ScalarType.Float32 => Run<float>(c, backward, options),
        ScalarType.Float16 => Run<Half>(c, backward, options),
        ScalarType.BFloat16 => Run<BFloat16>(c, backward, options),
        _ => throw new NotSupportedException(c.Type.ToString()),
    };

    public static Result Run<T>(AttentionCase c, bool backward, AttentionOptions? options = null) where T : unmanaged
    {
        options ??= c.Options();
        AttentionShape s = c.Shape;
        T[] q = Num.Convert<T>(c.Q), k = Num.Convert<T>(c.K), v = Num.Convert<T>(c.V);
        T[] output = Num.Poisoned<T>(s.QElements);
        float[] lse = Num.Poisoned<float>(s.LseElements);
        FlashAttention.Forward<T>(q, k, v, output, lse, s, options);
        if (!backward)
            return new Result(Num.ToDoubles<T>(output), Num.ToDoubles<float>(lse), null, null, null);

        T[] dOut = Num.Convert<T>(c.DOut);
        T[] dq = Num.Poisoned<T>(s.QElements), dk = Num.Poisoned<T>(s.KElements), dv = Num.Poisoned<T>(s.KElements);
        FlashAttention.Backward<T>(q, k, v, output, lse, dOut, dq, dk, dv, s, options);
        return new Result(Num.ToDoubles<T>(output), Num.ToDoubles<float>(lse),
            Num.ToDoubles<T>(dq), Num.ToDoubles<T>(dk), Num.ToDoubles<T>(dv));
    }
}
