/*
 * fuzz.h - what every harness of tests/fuzz/ provides: libFuzzer's entry point. The same
 * harness links with libFuzzer (make fuzz) or with replay.c (the unit test that replays the
 * committed inputs). A harness aborts when it finds a property broken; sanitizers catch the
 * rest.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the harness checks does not hold: say which, and crash (libFuzzer saves the
 * input). */
#define FUZZ_CHECK(cond)                                                                                \
        do {                                                                                            \
                if (!(cond)) {                                                                          \
                        fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond);     \
                        abort();                                                                        \
                }                                                                                       \
        } while (0)

#endif
