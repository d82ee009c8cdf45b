using System.Globalization;
using System.Runtime.InteropServices;

namespace FlashAttn;

/// <summary>
/// bfloat16: the upper 16 bits of an IEEE binary32. .NET has no public type for it, and the managed API
/// needs one to hand bf16 buffers across. Conversions from float/double round to nearest, ties to even;
/// the conversion to float is exact.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>, IFormattable
{
    private readonly ushort _bits;

    private BFloat16(ushort bits) => _bits = bits;

    /// <summary>The raw bit pattern.</summary>
    public ushort Bits => _bits;

    /// <summary>Reinterprets a bit pattern.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>0.</summary>
    public static BFloat16 Zero => new(0);
    /// <summary>1.</summary>
    public static BFloat16 One => new(0x3F80);
    /// <summary>A quiet NaN.</summary>
    public static BFloat16 NaN => new(0x7FC0);
    /// <summary>+∞.</summary>
    public static BFloat16 PositiveInfinity => new(0x7F80);
    /// <summary>−∞.</summary>
    public static BFloat16 NegativeInfinity => new(0xFF80);
    /// <summary>Largest finite value (≈ 3.39e38).</summary>
    public static BFloat16 MaxValue => new(0x7F7F);
    /// <summary>Distance from 1 to the next larger value (2⁻⁷).</summary>
    public static BFloat16 Epsilon => new(0x3C00);

    /// <summary>True for NaN.</summary>
    public static bool IsNaN(BFloat16 x) => (x._bits & 0x7FFF) > 0x7F80;
    /// <summary>True for ±∞.</summary>
    public static bool IsInfinity(BFloat16 x) => (x._bits & 0x7FFF) == 0x7F80;
    /// <summary>True for finite values.</summary>
    public static bool IsFinite(BFloat16 x) => (x._bits & 0x7F80) != 0x7F80;

    /// <summary>Round to nearest, ties to even. NaN stays NaN (quiet), overflow becomes ±∞.</summary>
    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000)
            return new BFloat16((ushort)((bits >> 16) | 0x0040));
        uint lsb = (bits >> 16) & 1;
        uint rounded = bits + 0x7FFF + lsb;
        return new BFloat16((ushort)(rounded >> 16));
    }

    /// <summary>
    /// Correctly rounded (ties to even) from double. Going through float naively could round twice; rounding
    /// to float with round-to-odd first keeps the sticky information, so the second rounding is exact.
    /// </summary>
    public static explicit operator BFloat16(double value)
    {
        if (double.IsNaN(value))
            return NaN;
        float f = (float)value;
        if ((double)f != value)
        {
            uint bits = BitConverter.SingleToUInt32Bits(f);
            if ((bits & 1) == 0)
            {
                bool tooBig = Math.Abs((double)f) > Math.Abs(value);
                bits = tooBig ? bits - 1 : bits + 1;
                f = BitConverter.UInt32BitsToSingle(bits);
            }
        }
        return (BFloat16)f;
    }

    /// <summary>Exact.</summary>
    public static explicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value._bits << 16);

    /// <summary>Exact.</summary>
    public static explicit operator double(BFloat16 value) => (float)value;

    /// <summary>Exact: every Half is a float, then rounded once.</summary>
    public static explicit operator BFloat16(Half value) => (BFloat16)(float)value;

    /// <inheritdoc />
    public bool Equals(BFloat16 other) => (float)this == (float)other;
    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);
    /// <inheritdoc />
    public override int GetHashCode() => ((float)this).GetHashCode();
    /// <inheritdoc />
    public int CompareTo(BFloat16 other) => ((float)this).CompareTo((float)other);

    /// <summary>IEEE equality (NaN ≠ NaN, +0 = −0).</summary>
    public static bool operator ==(BFloat16 a, BFloat16 b) => (float)a == (float)b;
    /// <summary>IEEE inequality.</summary>
    public static bool operator !=(BFloat16 a, BFloat16 b) => (float)a != (float)b;
    /// <summary>Less than.</summary>
    public static bool operator <(BFloat16 a, BFloat16 b) => (float)a < (float)b;
    /// <summary>Greater than.</summary>
    public static bool operator >(BFloat16 a, BFloat16 b) => (float)a > (float)b;
    /// <summary>Less or equal.</summary>
    public static bool operator <=(BFloat16 a, BFloat16 b) => (float)a <= (float)b;
    /// <summary>Greater or equal.</summary>
    public static bool operator >=(BFloat16 a, BFloat16 b) => (float)a >= (float)b;

    /// <inheritdoc />
    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);
    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ((float)this).ToString(format, formatProvider);
}
