namespace FlashAttn.Tests.Support;

/// <summary>OCP FP8 E4M3 (bias 7, no infinities), only as far as the tests need: exact values.</summary>
internal static class Float8
{
    /// <summary>Encodes a value that E4M3 represents exactly (the tests only generate such values).</summary>
    public static byte EncodeExact(double x)
    {
        if (x == 0) return 0;
        byte sign = (byte)(x < 0 ? 0x80 : 0);
        double a = Math.Abs(x);
        int e = (int)Math.Floor(Math.Log2(a));
        if (e < -6)
        {
            // Subnormal: a = m/8 · 2^-6.
            double m = a / Math.Pow(2, -9);
            if (m != Math.Round(m) || m < 1 || m > 7) throw new ArgumentException($"{x} is not exact in E4M3");
            return (byte)(sign | (int)m);
        }
        double mant = a / Math.Pow(2, e) - 1;
        double m3 = mant * 8;
        if (m3 != Math.Round(m3) || e > 8) throw new ArgumentException($"{x} is not exact in E4M3");
        return (byte)(sign | ((e + 7) << 3) | (int)m3);
    }

    public static double Decode(byte b)
    {
        int sign = (b & 0x80) != 0 ? -1 : 1;
        int exp = (b >> 3) & 0xF, m = b & 7;
        if (exp == 0xF && m == 7) return double.NaN;
        return exp == 0 ? sign * m / 8.0 * Math.Pow(2, -6) : sign * (1 + m / 8.0) * Math.Pow(2, exp - 7);
    }

    /// <summary>Random multiples of 1/8 in [-2, 2]: all exact in E4M3, and in bf16.</summary>
    public static double[] RandomExact(Random rng, long length)
    {
        var r = new double[length];
        for (long i = 0; i < length; i++) r[i] = rng.Next(-16, 17) / 8.0;
        return r;
    }
}
