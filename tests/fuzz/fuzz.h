/*  fuzz.h: what every fuzz target of tests/fuzz shares. Each target is
    one file that defines LLVMFuzzerTestOneInput and is built two ways:
    with clang's libFuzzer (-DEF_FUZZ=ON, tests/fuzz/run.sh) to search
    for inputs, and with replay.c's main in the normal build, which feeds
    the committed corpus to it (ctest fuzz_replay_<target>).
    FZ_CHECK states a property of the code under test that must hold for
    every input (a round trip, a valid rendering): unlike assert it stays
    in release builds, and a broken property aborts, which libFuzzer and
    the replay both report as a finding. */
#ifndef EF_FUZZ_H
#define EF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf (stderr, "%s:%d: property broken: %s\n", __FILE__,         \
                     __LINE__, #cond);                                         \
            abort ();                                                          \
        }                                                                      \
    } while (0)

#endif
