using System.Runtime.CompilerServices;

// The tests check the data pointer the kernels receive against TorchSharp's public Storage API.
[assembly: InternalsVisibleTo("FlashAttn.TorchSharp.Tests")]
