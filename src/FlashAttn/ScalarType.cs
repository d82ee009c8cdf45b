namespace FlashAttn;

/// <summary>Element types the library understands; values equal <c>fa_dtype</c>.</summary>
public enum ScalarType
{
    /// <summary>IEEE binary32.</summary>
    Float32 = 0,
    /// <summary>IEEE binary16 (<see cref="Half"/>).</summary>
    Float16 = 1,
    /// <summary>bfloat16 (<see cref="FlashAttn.BFloat16"/>).</summary>
    BFloat16 = 2,
    /// <summary>OCP FP8 E4M3: q, k, v of the Hopper forward only; the output is then BFloat16.</summary>
    Float8E4M3 = 3,
}

/// <summary>Element sizes and names of <see cref="ScalarType"/>.</summary>
public static class ScalarTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this ScalarType type) => type switch
    {
        ScalarType.Float32 => 4,
        ScalarType.Float16 => 2,
        ScalarType.BFloat16 => 2,
        ScalarType.Float8E4M3 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Expected a defined ScalarType."),
    };
}
