// accgen-sim harness: a generic C++ main() around one Verilator model.
//
// The model class is always `Vdut` (Verilator runs with `--prefix Vdut`), and
// everything design-specific (port list, word offsets, how to drive, sample
// and compare each port) lives in the generated `accgen_ports.h` included
// below. This file is the same for every design, so it is part of the build
// cache key only once.
//
// Data layout (shared with the Rust driver, see sim/src/frame.rs): every port
// value is ceil(width/32) little-endian 32-bit words, least significant word
// first, unused high bits zero. A check-mode frame is
//   [input words][expected output words][care words: bit k = compare output k]
// The clock is never part of a frame: the harness toggles it.
//
// Modes:
//   (default)            check mode: frames on stdin, summary on exit
//   --interactive        opcode protocol for the Rust `Session` API
//   --raw FILE [--repeat N]  benchmark baseline: drive the frames of FILE
//                        with no comparison and no I/O in the timed loop
//   --vcd PATH           dump a VCD (only in models built with --trace)
//   --vcd-from-cycle N   ... starting at cycle N
//
// Protocol output (summaries, mismatch reports, interactive replies) goes to
// the original stdout; the design's own $display output is redirected to
// stderr at startup so it can never corrupt the protocol.

#include "Vdut.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

// Exit statuses the Rust driver relies on (sim/src/check.rs).
enum : int {
    EXIT_OK = 0,
    EXIT_USAGE = 2,       // bad command line or I/O failure
    EXIT_MISMATCH = 10,   // a cared output differed from its expectation
    EXIT_TRUNCATED = 11,  // stdin ended inside a frame
};

struct PortDesc {
    const char* name;
    unsigned width;   // bits
    unsigned offset;  // first word within its section of the frame
};

// --- Moving values between frame words and Verilator port storage ---------
// Overloads on the port's C++ type, so the generated code never has to know
// which of CData/SData/IData/QData/VlWide Verilator picked for a width.

static inline void put(CData& p, const uint32_t* w) { p = static_cast<CData>(w[0]); }
static inline void put(SData& p, const uint32_t* w) { p = static_cast<SData>(w[0]); }
static inline void put(IData& p, const uint32_t* w) { p = w[0]; }
static inline void put(QData& p, const uint32_t* w) {
    p = static_cast<QData>(w[0]) | (static_cast<QData>(w[1]) << 32);
}
template <std::size_t N>
static inline void put(VlWide<N>& p, const uint32_t* w) {
    for (std::size_t i = 0; i < N; ++i) p[i] = w[i];
}

static inline void get(CData p, uint32_t* w) { w[0] = p; }
static inline void get(SData p, uint32_t* w) { w[0] = p; }
static inline void get(IData p, uint32_t* w) { w[0] = p; }
static inline void get(QData p, uint32_t* w) {
    w[0] = static_cast<uint32_t>(p);
    w[1] = static_cast<uint32_t>(p >> 32);
}
template <std::size_t N>
static inline void get(const VlWide<N>& p, uint32_t* w) {
    for (std::size_t i = 0; i < N; ++i) w[i] = p[i];
}

// Verilator keeps output ports clean (bits above the width are zero), and the
// Rust encoder masks expectations the same way, so plain word equality works.
static inline bool same(CData p, const uint32_t* w) { return p == w[0]; }
static inline bool same(SData p, const uint32_t* w) { return p == w[0]; }
static inline bool same(IData p, const uint32_t* w) { return p == w[0]; }
static inline bool same(QData p, const uint32_t* w) {
    return static_cast<uint32_t>(p) == w[0] && static_cast<uint32_t>(p >> 32) == w[1];
}
template <std::size_t N>
static inline bool same(const VlWide<N>& p, const uint32_t* w) {
    for (std::size_t i = 0; i < N; ++i)
        if (p[i] != w[i]) return false;
    return true;
}

// Generated per design: IN_WORDS, OUT_WORDS, CARE_WORDS, IN_PORTS[],
// OUT_PORTS[], HAS_CLOCK, set_clock(), drive_inputs(), sample_outputs(),
// compare_outputs().
#include "accgen_ports.h"

static const std::size_t FRAME_WORDS = IN_WORDS + OUT_WORDS + CARE_WORDS;

// --- The simulation: model, optional trace, simulated time ------------------

struct Sim {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vdut> top;
#if VM_TRACE
    std::unique_ptr<VerilatedVcdC> vcd;
#endif
    // Half a clock period is 5 time units: inputs change (and the previous
    // falling edge lands) at 10*c, the rising edge at 10*c + 5.
    uint64_t time = 0;
    // Nothing is dumped before this time, so a failure late in a long run
    // gives a waveform of its last cycles, not gigabytes.
    uint64_t dump_from = 0;

    Sim(const char* vcd_path, uint64_t dump_from_cycle)
        : ctx(new VerilatedContext), dump_from(10 * dump_from_cycle) {
#if VM_TRACE
        if (vcd_path) ctx->traceEverOn(true);
#endif
        top.reset(new Vdut{ctx.get(), "TOP"});
#if VM_TRACE
        if (vcd_path) {
            vcd.reset(new VerilatedVcdC);
            top->trace(vcd.get(), 99);
            vcd->open(vcd_path);
        }
#else
        (void)vcd_path;
#endif
        set_clock(top.get(), 0);
    }

    // eval() and record the settled values at the current time step.
    inline void eval_and_dump() {
        top->eval();
#if VM_TRACE
        if (vcd && time >= dump_from) vcd->dump(time);
#endif
        time += 5;
    }

    // One clock cycle after the inputs were applied: evaluate the
    // combinational logic, then let the caller look at the outputs, then the
    // rising and falling edges. The falling edge is evaluated but dumped with
    // the next cycle's inputs, which change at the same simulated time.
    inline void settle() { eval_and_dump(); }
    inline void clock_edges() {
        if (!HAS_CLOCK) return;
        set_clock(top.get(), 1);
        eval_and_dump();
        set_clock(top.get(), 0);
        top->eval();
    }

    void finish() {
        top->final();
#if VM_TRACE
        if (vcd) {
            if (time >= dump_from) vcd->dump(time);
            vcd->close();
        }
#endif
    }
};

// --- Protocol output --------------------------------------------------------

static FILE* proto = nullptr;  // the original stdout

static void print_hex(const uint32_t* w, unsigned width) {
    const unsigned words = (width + 31) / 32;
    const unsigned top_digits = ((width + 3) / 4) - 8 * (words - 1);
    fprintf(proto, "%0*x", static_cast<int>(top_digits), w[words - 1]);
    for (unsigned i = words - 1; i-- > 0;) fprintf(proto, "%08x", w[i]);
}

// Everything needed to understand the failing cycle: every input, every
// output with its expectation and whether it was compared, machine-readable
// for the Rust side (sim/src/check.rs parses it).
static void report_mismatch(Sim& sim, uint64_t cycle, int first_bad, const uint32_t* f) {
    const uint32_t* in = f;
    const uint32_t* exp = f + IN_WORDS;
    const uint32_t* care = f + IN_WORDS + OUT_WORDS;
    uint32_t actual[OUT_WORDS + 1];
    sample_outputs(sim.top.get(), actual);
    fprintf(proto, "@accgen mismatch cycle=%llu port=%s\n",
            static_cast<unsigned long long>(cycle), OUT_PORTS[first_bad].name);
    for (std::size_t i = 0; i < sizeof(IN_PORTS) / sizeof(IN_PORTS[0]); ++i) {
        const PortDesc& p = IN_PORTS[i];
        if (p.width == 0) continue;  // placeholder entry of a design with no inputs
        fprintf(proto, "@accgen in %s ", p.name);
        print_hex(in + p.offset, p.width);
        fputc('\n', proto);
    }
    for (std::size_t k = 0; k < sizeof(OUT_PORTS) / sizeof(OUT_PORTS[0]); ++k) {
        const PortDesc& p = OUT_PORTS[k];
        if (p.width == 0) continue;
        const bool cared = (care[k / 32] >> (k % 32)) & 1u;
        const unsigned words = (p.width + 31) / 32;
        const bool bad = cared && std::memcmp(exp + p.offset, actual + p.offset, 4 * words) != 0;
        fprintf(proto, "@accgen out %s %s expected=", p.name, !cared ? "dontcare" : bad ? "BAD" : "ok");
        print_hex(exp + p.offset, p.width);
        fputs(" actual=", proto);
        print_hex(actual + p.offset, p.width);
        fputc('\n', proto);
    }
    fputs("@accgen end\n", proto);
    fflush(proto);
}

// --- Check mode -------------------------------------------------------------

static int run_check(const char* vcd_path, uint64_t vcd_from) {
    Sim sim(vcd_path, vcd_from);
    // A bigger pipe lets the Rust writer run further ahead (Linux only;
    // harmless if refused).
#ifdef F_SETPIPE_SZ
    (void)fcntl(0, F_SETPIPE_SZ, 1 << 20);
#endif
    // About 1 MiB of whole frames per buffer; read() returns whatever the
    // pipe holds, so the model starts on the first frames at once.
    const std::size_t frame_bytes = 4 * FRAME_WORDS;
    const std::size_t cap_frames = FRAME_WORDS ? ((1u << 20) / frame_bytes + 1) : 1;
    std::vector<uint32_t> buf(cap_frames * FRAME_WORDS + 1);
    char* bytes = reinterpret_cast<char*>(buf.data());
    const std::size_t cap = cap_frames * frame_bytes;
    std::size_t have = 0;
    uint64_t cycle = 0, compared = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
        const ssize_t n = read(0, bytes + have, cap - have);
        if (n < 0) {
            perror("accgen harness: read stdin");
            return EXIT_USAGE;
        }
        if (n == 0) break;
        have += static_cast<std::size_t>(n);
        const std::size_t whole = have / frame_bytes;
        const uint32_t* f = buf.data();
        for (std::size_t i = 0; i < whole; ++i, f += FRAME_WORDS, ++cycle) {
            Vdut* top = sim.top.get();
            drive_inputs(top, f);
            sim.settle();
            const int bad = compare_outputs(top, f + IN_WORDS, f + IN_WORDS + OUT_WORDS, compared);
            if (bad >= 0) {
                report_mismatch(sim, cycle, bad, f);
                sim.finish();
                return EXIT_MISMATCH;
            }
            sim.clock_edges();
        }
        const std::size_t used = whole * frame_bytes;
        std::memmove(bytes, bytes + used, have - used);
        have -= used;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sim.finish();
    if (have != 0) {
        fprintf(proto, "@accgen truncated bytes=%zu frame_bytes=%zu\n", have, frame_bytes);
        fflush(proto);
        return EXIT_TRUNCATED;
    }
    fprintf(proto, "@accgen done cycles=%llu compared=%llu seconds=%.6f\n",
            static_cast<unsigned long long>(cycle), static_cast<unsigned long long>(compared),
            secs);
    fflush(proto);
    return EXIT_OK;
}

// --- Interactive mode -------------------------------------------------------
// Requests are little-endian u32 words: an opcode, then for EVAL and TICK all
// input words. EVAL and TICK reply with all output words; every reply is
// flushed at once because the Rust side waits for it.

enum : uint32_t { OP_QUIT = 0, OP_EVAL = 1, OP_TICK = 2 };

static bool read_words(uint32_t* w, std::size_t n) {
    return n == 0 || fread(w, 4, n, stdin) == n;
}

static int run_interactive(const char* vcd_path) {
    Sim sim(vcd_path, 0);
    uint32_t in[IN_WORDS + 1] = {0};
    uint32_t out[OUT_WORDS + 1] = {0};
    for (;;) {
        uint32_t op;
        if (!read_words(&op, 1) || op == OP_QUIT) break;  // EOF: the session was dropped
        if (op != OP_EVAL && op != OP_TICK) {
            fprintf(stderr, "accgen harness: unknown opcode %u\n", op);
            sim.finish();
            return EXIT_USAGE;
        }
        if (!read_words(in, IN_WORDS)) break;
        drive_inputs(sim.top.get(), in);
        sim.settle();
        if (op == OP_TICK) sim.clock_edges();
        sample_outputs(sim.top.get(), out);
        if (OUT_WORDS && fwrite(out, 4, OUT_WORDS, proto) != OUT_WORDS) break;
        fflush(proto);
    }
    sim.finish();
    return EXIT_OK;
}

// --- Raw mode: the baseline a hand-written C++ loop would reach -------------

static int run_raw(const char* path, unsigned long repeat) {
    FILE* fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        return EXIT_USAGE;
    }
    std::vector<uint32_t> frames;
    uint32_t chunk[4096];
    std::size_t n;
    while ((n = fread(chunk, 4, 4096, fp)) > 0) frames.insert(frames.end(), chunk, chunk + n);
    fclose(fp);
    if (FRAME_WORDS == 0 || frames.size() % FRAME_WORDS != 0) {
        fprintf(stderr, "accgen harness: %s is not a whole number of %zu-word frames\n", path,
                FRAME_WORDS);
        return EXIT_USAGE;
    }
    const std::size_t count = frames.size() / FRAME_WORDS;
    Sim sim(nullptr, 0);
    Vdut* top = sim.top.get();
    const auto t0 = std::chrono::steady_clock::now();
    for (unsigned long r = 0; r < repeat; ++r) {
        const uint32_t* f = frames.data();
        for (std::size_t i = 0; i < count; ++i, f += FRAME_WORDS) {
            drive_inputs(top, f);
            top->eval();
            if (HAS_CLOCK) {
                set_clock(top, 1);
                top->eval();
                set_clock(top, 0);
                top->eval();
            }
        }
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sim.finish();
    const unsigned long long cycles = static_cast<unsigned long long>(count) * repeat;
    fprintf(proto, "@accgen raw cycles=%llu seconds=%.6f cycles_per_s=%.1f\n", cycles, secs,
            secs > 0 ? cycles / secs : 0.0);
    fflush(proto);
    return EXIT_OK;
}

int main(int argc, char** argv) {
    // Keep the protocol channel private: fd 1 becomes a copy of stderr, so
    // $display and Verilator's own messages land there instead.
    const int proto_fd = dup(1);
    if (proto_fd < 0 || dup2(2, 1) < 0 || !(proto = fdopen(proto_fd, "wb"))) {
        perror("accgen harness: setting up the protocol channel");
        return EXIT_USAGE;
    }
    const char* vcd_path = nullptr;
    const char* raw_path = nullptr;
    unsigned long repeat = 1;
    uint64_t vcd_from = 0;
    bool interactive = false;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!std::strcmp(a, "--interactive")) {
            interactive = true;
        } else if (!std::strcmp(a, "--vcd") && i + 1 < argc) {
            vcd_path = argv[++i];
        } else if (!std::strcmp(a, "--vcd-from-cycle") && i + 1 < argc) {
            vcd_from = std::strtoull(argv[++i], nullptr, 10);
        } else if (!std::strcmp(a, "--raw") && i + 1 < argc) {
            raw_path = argv[++i];
        } else if (!std::strcmp(a, "--repeat") && i + 1 < argc) {
            repeat = std::strtoul(argv[++i], nullptr, 10);
        } else {
            fprintf(stderr,
                    "usage: %s [--interactive | --raw FILE [--repeat N]] [--vcd PATH "
                    "[--vcd-from-cycle N]]\n",
                    argv[0]);
            return EXIT_USAGE;
        }
    }
#if !VM_TRACE
    if (vcd_path) {
        fprintf(stderr, "accgen harness: this model was built without tracing; --vcd needs a "
                        "traced build\n");
        return EXIT_USAGE;
    }
#endif
    if (raw_path) return run_raw(raw_path, repeat);
    if (interactive) return run_interactive(vcd_path);
    return run_check(vcd_path, vcd_from);
}
