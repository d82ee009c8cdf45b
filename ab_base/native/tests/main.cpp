// fa_check accuracy | errors | fuzz [count] [seed] | bench [s=N] [d=N] [t=threads] [r=reps] [causal] [fwd] [fp32|bf16|fp16]
#include <cstdio>
#include <cstring>

#include <cstdlib>

int run_accuracy();
int run_fuzz(int count, unsigned seed);
int run_errors();
int run_bench(int argc, char** argv);

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "accuracy") == 0) return run_accuracy();
    if (argc >= 2 && std::strcmp(argv[1], "errors") == 0) return run_errors();
    if (argc >= 2 && std::strcmp(argv[1], "fuzz") == 0)
        return run_fuzz(argc >= 3 ? std::atoi(argv[2]) : 50, argc >= 4 ? static_cast<unsigned>(std::atoi(argv[3])) : 1u);
    if (argc >= 2 && std::strcmp(argv[1], "bench") == 0) return run_bench(argc - 2, argv + 2);
    std::fprintf(stderr, "usage: fa_check accuracy | errors | fuzz [count] [seed] | bench [s=N] [d=N] [t=N] [r=N] [causal] [fwd] [fp32|bf16|fp16]\n");
    return 2;
}
