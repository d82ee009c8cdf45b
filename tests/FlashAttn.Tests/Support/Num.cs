using FlashAttn;

namespace FlashAttn.Tests.Support;

/// <summary>Conversions between double and the element types under test, and their precision constants.</summary>
internal static class Num
{
    public static double ToDouble<T>(T x) where T : unmanaged => x switch
    {
        float f => f,
        Half h => (double)h,
        BFloat16 b => (double)b,
        double d => d,
        _ => throw new NotSupportedException(typeof(T).Name),
    };

    public static T FromDouble<T>(double x) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return (T)(object)(float)x;
        if (typeof(T) == typeof(Half)) return (T)(object)(Half)x;
        if (typeof(T) == typeof(BFloat16)) return (T)(object)(BFloat16)x;
        if (typeof(T) == typeof(double)) return (T)(object)x;
        throw new NotSupportedException(typeof(T).Name);
    }

    /// <summary>Rounds a double to the storage precision of <paramref name="type"/>.</summary>
    public static Func<double, double> Rounder(ScalarType type) => type switch
    {
        ScalarType.Float32 => x => (float)x,
        ScalarType.Float16 => x => (double)(Half)x,
        ScalarType.BFloat16 => x => (double)(BFloat16)x,
        _ => throw new NotSupportedException(type.ToString()),
    };

    /// <summary>Machine epsilon (distance from 1 to the next value).</summary>
    public static double Epsilon(ScalarType type) => type switch
    {
        ScalarType.Float32 => Math.Pow(2, -23),
        ScalarType.Float16 => Math.Pow(2, -10),
        ScalarType.BFloat16 => Math.Pow(2, -7),
        _ => throw new NotSupportedException(type.ToString()),
    };

    public static T[] Convert<T>(double[] values) where T : unmanaged
    {
        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = FromDouble<T>(values[i]);
        return result;
    }

    public static double[] ToDoubles<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = ToDouble(values[i]);
        return result;
    }

    public static T NaN<T>() where T : unmanaged => FromDouble<T>(double.NaN);

    public static T[] Poisoned<T>(long length) where T : unmanaged
    {
        var result = new T[length];
        Array.Fill(result, NaN<T>());
        return result;
    }

    /// <summary>Standard-normal values (like torch.randn), rounded to <paramref name="type"/> so both sides see the same inputs.</summary>
    public static double[] RandomNormal(Random rng, long length, ScalarType type, double scale = 1.0)
    {
        Func<double, double> round = Rounder(type);
        var result = new double[length];
        for (long i = 0; i < length; i++)
        {
            double u1 = 1.0 - rng.NextDouble();
            double u2 = rng.NextDouble();
            double z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            result[i] = round(z * scale);
        }
        return result;
    }
}
