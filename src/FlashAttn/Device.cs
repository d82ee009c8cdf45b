namespace FlashAttn;

/// <summary>Where memory lives; values equal <c>fa_device_type</c>.</summary>
public enum DeviceType
{
    /// <summary>Host memory.</summary>
    Cpu = 0,
    /// <summary>CUDA device memory.</summary>
    Cuda = 1,
}

/// <summary>A device: the CPU, or one CUDA ordinal.</summary>
public readonly record struct Device
{
    private Device(DeviceType type, int index)
    {
        Type = type;
        Index = index;
    }

    /// <summary>Kind of device.</summary>
    public DeviceType Type { get; }

    /// <summary>CUDA ordinal; 0 for the CPU.</summary>
    public int Index { get; }

    /// <summary>Host memory.</summary>
    public static Device Cpu => default;

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new Device(DeviceType.Cuda, index);
    }

    /// <summary>True for CUDA devices.</summary>
    public bool IsCuda => Type == DeviceType.Cuda;

    /// <inheritdoc />
    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
