using FlashAttn;

namespace FlashAttn.Demo;

/// <summary>
/// Random q, k, v and dout for a scenario. The values are drawn in float, then rounded to the storage type,
/// and the float copies hold exactly the rounded values, so every implementation sees the same numbers.
/// </summary>
public sealed class Inputs
{
    public required float[] Q { get; init; }
    public required float[] K { get; init; }
    public required float[] V { get; init; }
    public required float[] DOut { get; init; }

    public static Inputs Draw(Scenario scenario, int seed)
    {
        var random = new Random(seed);
        AttentionShape s = scenario.Shape;
        return new Inputs
        {
            Q = Draw(random, s.QElements, scenario.DType),
            K = Draw(random, s.KElements, scenario.DType),
            V = Draw(random, s.KElements, scenario.DType),
            DOut = Draw(random, s.QElements, scenario.DType),
        };
    }

    private static float[] Draw(Random random, long count, ScalarType dtype)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            // Box-Muller: unit normal values, like torch.randn.
            double u = 1.0 - random.NextDouble(), w = random.NextDouble();
            values[i] = Storage.Round((float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * w)), dtype);
        }
        return values;
    }
}

/// <summary>Conversions between float and the storage types the library accepts.</summary>
public static class Storage
{
    public static float Round(float x, ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => (float)(Half)x,
        ScalarType.BFloat16 => (float)(BFloat16)x,
        _ => x,
    };

    public static T[] To<T>(float[] values) where T : unmanaged
    {
        var result = new T[values.Length];
        for (long i = 0; i < values.LongLength; i++) result[i] = From<T>(values[i]);
        return result;
    }

    public static double[] ToDouble<T>(T[] values) where T : unmanaged
    {
        var result = new double[values.Length];
        for (long i = 0; i < values.LongLength; i++) result[i] = ToFloat(values[i]);
        return result;
    }

    public static double[] ToDouble(float[] values) => Array.ConvertAll(values, x => (double)x);

    private static T From<T>(float x) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return (T)(object)x;
        if (typeof(T) == typeof(Half)) return (T)(object)(Half)x;
        if (typeof(T) == typeof(BFloat16)) return (T)(object)(BFloat16)x;
        throw new NotSupportedException(typeof(T).Name);
    }

    private static float ToFloat<T>(T x) where T : unmanaged => x switch
    {
        float f => f,
        Half h => (float)h,
        BFloat16 b => (float)b,
        _ => throw new NotSupportedException(typeof(T).Name),
    };
}
