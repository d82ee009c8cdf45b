#!/usr/bin/env pwsh
<#
.SYNOPSIS
  Builds, tests and packs FlashAttn for users with PowerShell. Every step is a plain dotnet/cmake command,
  the same ones README.md lists, so nothing here is needed to use the project.
.PARAMETER Task
  build | test | demo | pack | gpu-tests (default: test)
.PARAMETER Cuda
  AUTO (build the CUDA backends when a CUDA compiler is found), ON or OFF. Default AUTO.
.PARAMETER TorchSharpDll
  Path of a locally built TorchSharp.dll; also builds the TorchSharp layer, its tests and the GPT sample.
#>
param(
    [ValidateSet('build', 'test', 'demo', 'pack', 'gpu-tests')] [string] $Task = 'test',
    [ValidateSet('AUTO', 'ON', 'OFF')] [string] $Cuda = 'AUTO',
    [string] $Configuration = 'Release',
    [string] $TorchSharpDll = ''
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:FLASHATTN_CUDA = $Cuda

function Invoke-Step([string] $What, [string[]] $Command) {
    Write-Host "==> $What" -ForegroundColor Cyan
    & $Command[0] $Command[1..($Command.Length - 1)]
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

$torchArgs = @()
if ($TorchSharpDll) { $torchArgs = @("-p:TorchSharpDll=$((Resolve-Path $TorchSharpDll).Path)") }

switch ($Task) {
    'build' {
        Invoke-Step 'build core' @('dotnet', 'build', 'src/FlashAttn', '-c', $Configuration)
        if ($TorchSharpDll) {
            Invoke-Step 'build TorchSharp layer' (@('dotnet', 'build', 'src/FlashAttn.TorchSharp', '-c', $Configuration) + $torchArgs)
            Invoke-Step 'build GPT sample' (@('dotnet', 'build', 'samples/Gpt', '-c', $Configuration) + $torchArgs)
        }
    }
    'test' {
        Invoke-Step 'test core (CPU; GPU cases run where a CUDA device exists)' @('dotnet', 'test', '--project', 'tests/FlashAttn.Tests', '-c', $Configuration)
        if ($TorchSharpDll) {
            Invoke-Step 'test TorchSharp layer' (@('dotnet', 'test', '--project', 'tests/FlashAttn.TorchSharp.Tests', '-c', $Configuration) + $torchArgs)
        }
    }
    'demo' { Invoke-Step 'main job' @('dotnet', 'run', '--project', 'samples/FlashAttn.Demo', '-c', $Configuration) }
    'pack' {
        Invoke-Step 'pack FlashAttn (native library under runtimes/<rid>/native)' @('dotnet', 'pack', 'src/FlashAttn', '-c', $Configuration, '-o', 'artifacts/packages')
        if ($TorchSharpDll -eq '') {
            Invoke-Step 'pack FlashAttn.TorchSharp' @('dotnet', 'pack', 'src/FlashAttn.TorchSharp', '-c', $Configuration, '-o', 'artifacts/packages')
        }
    }
    'gpu-tests' {
        # On a machine with an NVIDIA GPU, CUDA >= 11.8 and PyTorch: build with CUDA, check against PyTorch, benchmark.
        Invoke-Step 'GPU checks and benchmark' @('bash', 'tests/gpu/run.sh')
    }
}
