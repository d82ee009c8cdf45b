namespace Gpt.Training;

/// <summary>Linear warm-up over the first 10% of steps, then cosine decay to 10% of the peak.</summary>
public static class LrSchedule
{
    public static double At(int step, int totalSteps, double peak)
    {
        int warmup = Math.Max(1, totalSteps / 10);
        if (step < warmup)
            return peak * (step + 1) / warmup;
        double progress = (step - warmup) / (double)Math.Max(1, totalSteps - warmup);
        return peak * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
