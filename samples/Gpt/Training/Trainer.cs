using System.Diagnostics;
using FlashAttn.TorchSharp.Modules;
using Gpt.Data;
using Gpt.Model;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Gpt.Training;

/// <summary>One training run: model, AdamW, the loop with a live display, validation before and after, a sample.</summary>
public sealed class Trainer
{
    private readonly TrainOptions _o;
    private readonly Device _device;
    private readonly ScalarType _dtype;

    public Trainer(TrainOptions options, Device device)
    {
        _o = options;
        _device = device;
        // The CUDA kernels are half precision; the CPU backend also runs float32, which trains more steadily there.
        _dtype = device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;
    }

    public RunSummary Run()
    {
        // TorchSharp's manual_seed seeds the CPU generator only; parameters created on the GPU draw from CUDA's.
        // Both, so that flash and sdpa runs start from the same weights.
        torch.manual_seed(_o.Seed);
        if (_device.type == DeviceType.CUDA)
            torch.cuda.manual_seed_all(_o.Seed);
        using var corpus = new CharCorpus(File.ReadAllText(_o.DataPath), _device);
        var memory = _device.type == DeviceType.CUDA ? DeviceMemory.TryCreate() : null;

        var config = new GptConfig(corpus.VocabSize, _o.Block, _o.Layers, _o.Embed, _o.Heads, _o.EffectiveKvHeads, _o.Dropout,
            Rotary: _o.Position == "rotary");
        AttentionFunction? attention = _o.Attention == "sdpa" ? AttentionFunctions.TorchSdpa : null;
        using var model = new GptModel(config, attention, _device, _dtype);
        long parameters = model.parameters().Sum(p => p.numel());
        AnsiConsole.MarkupLine($"[bold]{_o.Attention}[/] attention on [bold]{_device}[/] ({_dtype}): {parameters / 1e6:F2}M parameters, " +
            $"vocab {corpus.VocabSize}, {_o.Layers} layers x {_o.Heads} heads ({_o.EffectiveKvHeads} kv) x {_o.Embed / _o.Heads}, " +
            $"block {_o.Block}, batch {_o.Batch}, {_o.Position} positions");

        var generator = new Generator((ulong)_o.Seed);
        double valBefore = Evaluate(model, corpus, generator);
        var optimizer = optim.AdamW(model.parameters(), lr: _o.LearningRate, beta1: 0.9, beta2: 0.95, weight_decay: 0.1);
        var losses = new List<double[]>();
        long tokensPerStep = (long)_o.Batch * _o.Block;
        const int warmupSteps = 5;   // first steps pay for kernel selection and allocator growth
        var clock = Stopwatch.StartNew();
        var steady = new Stopwatch();

        void Step(int step)
        {
            if (step == warmupSteps)
            {
                Synchronize();
                steady.Start();
            }
            using var scope = NewDisposeScope();
            model.train();
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = LrSchedule.At(step, _o.Steps, _o.LearningRate);
            (Tensor x, Tensor y) = corpus.Batch(validation: false, _o.Batch, _o.Block, generator);
            Tensor logits = model.forward(x);
            Tensor loss = nn.functional.cross_entropy(logits.view(-1, corpus.VocabSize).to(ScalarType.Float32), y.view(-1));
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            optimizer.step();
            if (step % _o.LogEvery == 0 || step == _o.Steps - 1)
                losses.Add([step, loss.item<float>()]);
        }

        string Status(int step)
        {
            double last = losses.Count > 0 ? losses[^1][1] : double.NaN;
            double tps = steady.IsRunning && step > warmupSteps ? (step - warmupSteps) * tokensPerStep / steady.Elapsed.TotalSeconds : 0;
            string mem = memory?.Sample() is long m ? DeviceMemory.Format(m) : "n/a";
            return $"loss {last:F3} | {tps,9:N0} tok/s | mem {mem}";
        }

        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("training", maxValue: _o.Steps);
                    for (int step = 0; step < _o.Steps; step++)
                    {
                        Step(step);
                        if (step % _o.LogEvery == 0 || step == _o.Steps - 1)
                            task.Description = Markup.Escape(Status(step + 1));
                        task.Increment(1);
                    }
                });
        }
        else
        {
            // Redirected output (CI, the GPU machine): plain lines instead of a redrawn bar.
            for (int step = 0; step < _o.Steps; step++)
            {
                Step(step);
                if (step % (_o.LogEvery * 5) == 0 || step == _o.Steps - 1)
                    Console.WriteLine($"step {step + 1,5}/{_o.Steps} | {Status(step + 1)}");
            }
        }
        Synchronize();
        steady.Stop();
        double trainSeconds = clock.Elapsed.TotalSeconds;
        double tokensPerSecond = _o.Steps > warmupSteps ? (_o.Steps - warmupSteps) * tokensPerStep / steady.Elapsed.TotalSeconds : 0;
        memory?.Sample();

        double valAfter = Evaluate(model, corpus, generator);
        string sample = Sampler.Generate(model, corpus, "Shall I ", _o.SampleChars, _device, seed: _o.Seed);

        return new RunSummary
        {
            Attention = _o.Attention,
            Device = GpuName() ?? _device.ToString(),
            DType = _dtype.ToString(),
            Steps = _o.Steps,
            TokensPerStep = tokensPerStep,
            TokensPerSecond = tokensPerSecond,
            PeakMemoryBytes = memory?.PeakBytes,
            MemorySource = memory?.Source,
            ValLossBefore = valBefore,
            ValLossAfter = valAfter,
            TrainSeconds = trainSeconds,
            TrainLoss = losses,
            Sample = sample,
        };
    }

    private double Evaluate(GptModel model, CharCorpus corpus, Generator generator)
    {
        model.eval();
        using var _ = no_grad();
        double total = 0;
        const int batches = 8;
        for (int i = 0; i < batches; i++)
        {
            using var scope = NewDisposeScope();
            (Tensor x, Tensor y) = corpus.Batch(validation: true, _o.Batch, _o.Block, generator);
            Tensor logits = model.forward(x);
            total += nn.functional.cross_entropy(logits.view(-1, corpus.VocabSize).to(ScalarType.Float32), y.view(-1)).item<float>();
        }
        return total / batches;
    }

    private void Synchronize()
    {
        if (_device.type == DeviceType.CUDA)
            torch.cuda.synchronize(_device);
    }

    private string? GpuName()
    {
        if (_device.type != DeviceType.CUDA) return null;
        try
        {
            var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name --format=csv,noheader")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            });
            string? name = smi?.StandardOutput.ReadLine();
            smi?.WaitForExit(5000);
            return string.IsNullOrWhiteSpace(name) ? null : $"{_device} ({name.Trim()})";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
