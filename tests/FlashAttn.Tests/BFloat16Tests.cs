using FlashAttn;

namespace FlashAttn.Tests;

[TestFixture]
public class BFloat16Tests
{
    [Test]
    public void EveryBitPatternRoundTripsThroughFloat()
    {
        for (int bits = 0; bits <= 0xFFFF; bits++)
        {
            var x = BFloat16.FromBits((ushort)bits);
            float f = (float)x;
            if (float.IsNaN(f))
            {
                Assert.That(BFloat16.IsNaN((BFloat16)f), Is.True);
                continue;
            }
            Assert.That(((BFloat16)f).Bits, Is.EqualTo((ushort)bits), $"bits 0x{bits:X4}");
            Assert.That(((BFloat16)(double)f).Bits, Is.EqualTo((ushort)bits), $"bits 0x{bits:X4} via double");
        }
    }

    [Test]
    public void FloatConversionRoundsToNearestEven()
    {
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
        Assert.That(((BFloat16)(1f + MathF.Pow(2, -8))).Bits, Is.EqualTo(0x3F80));
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up.
        Assert.That(((BFloat16)(1f + 3 * MathF.Pow(2, -8))).Bits, Is.EqualTo(0x3F82));
        // Just above the tie rounds up.
        Assert.That(((BFloat16)BitConverter.UInt32BitsToSingle(0x3F808001)).Bits, Is.EqualTo(0x3F81));
        Assert.That(((BFloat16)(-1f - MathF.Pow(2, -8))).Bits, Is.EqualTo(0xBF80));
    }

    [Test]
    public void DoubleConversionRoundsOnce()
    {
        // Slightly above the bf16 tie 1 + 2^-8, but rounding to float first would land exactly on the tie
        // and then round down to even: a correct conversion rounds up.
        double x = 1 + Math.Pow(2, -8) + Math.Pow(2, -40);
        Assert.That((float)x, Is.EqualTo(1f + MathF.Pow(2, -8)));
        Assert.That(((BFloat16)x).Bits, Is.EqualTo(0x3F81));
        Assert.That(((BFloat16)(-x)).Bits, Is.EqualTo(0xBF81));
    }

    [Test]
    public void SpecialValues()
    {
        Assert.That(BFloat16.IsNaN((BFloat16)float.NaN), Is.True);
        Assert.That(BFloat16.IsNaN((BFloat16)double.NaN), Is.True);
        Assert.That(((BFloat16)float.PositiveInfinity).Bits, Is.EqualTo(0x7F80));
        Assert.That(((BFloat16)float.MaxValue).Bits, Is.EqualTo(0x7F80), "overflow rounds to infinity");
        Assert.That(((BFloat16)1e300).Bits, Is.EqualTo(0x7F80));
        Assert.That(((BFloat16)(-0.0f)).Bits, Is.EqualTo(0x8000));
        Assert.That((float)BFloat16.MaxValue, Is.EqualTo(3.3895314e38f).Within(1e32f));
        Assert.That(BFloat16.One == (BFloat16)1.0f, Is.True);
        Assert.That((float)(BFloat16)(Half)0.5f, Is.EqualTo(0.5f));
    }

    [Test]
    public void SubnormalsAreKept()
    {
        float tiny = BitConverter.UInt32BitsToSingle(0x00010000);
        Assert.That(((BFloat16)tiny).Bits, Is.EqualTo(0x0001));
        Assert.That((float)BFloat16.FromBits(0x0001), Is.EqualTo(tiny));
    }
}
