/*
 * memguard_stack.c - the stack scan MemGuard uses for sampled objects
 * (src/memguard_stack.c): which words of a stack are return addresses
 * (the x86-64 call encodings, and what only looks like one), and that a
 * scan from a function finds its caller.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "memguard_int.h"

#if defined(__x86_64__)
/* Bytes of an instruction ending where a return address would point. */
struct enc {
	const char	*what;
	uint8_t		 len;
	uint8_t		 b[7];
	bool		 call;
};

static const struct enc encs[] = {
	{ "call rel32", 5, { 0xe8, 0x10, 0x20, 0xff, 0xff }, true },
	{ "call *%rax", 2, { 0xff, 0xd0 }, true },
	{ "call *%r11 (REX)", 3, { 0x41, 0xff, 0xd3 }, true },
	{ "call *(%rax)", 2, { 0xff, 0x10 }, true },
	{ "call *(%rsp) (SIB)", 3, { 0xff, 0x14, 0x24 }, true },
	{ "call *8(%rax)", 3, { 0xff, 0x50, 0x08 }, true },
	{ "call *8(%rsp)", 4, { 0xff, 0x54, 0x24, 0x08 }, true },
	{ "call *disp32(%rip)", 6, { 0xff, 0x15, 0x00, 0x10, 0x00, 0x00 },
	    true },
	{ "call *disp32(%rax)", 6, { 0xff, 0x90, 0x00, 0x01, 0x00, 0x00 },
	    true },
	{ "call *disp32(%rsp)", 7, { 0xff, 0x94, 0x24, 0x00, 0x01, 0x00,
	    0x00 }, true },
	{ "call *disp32(,%rax,8) (SIB, no base)", 7, { 0xff, 0x14, 0xc5,
	    0x00, 0x10, 0x00, 0x00 }, true },
	{ "jmp *%rax", 2, { 0xff, 0xe0 }, false },
	{ "jmp *(%rax)", 2, { 0xff, 0x20 }, false },
	{ "jmp rel32", 5, { 0xe9, 0x00, 0x00, 0x00, 0x00 }, false },
	{ "push (%rax)", 2, { 0xff, 0x30 }, false },
	{ "nops", 4, { 0x90, 0x90, 0x90, 0x90 }, false },
	/* ff /2 whose ModRM wants a disp8 it does not have. */
	{ "ff 50 at the end", 2, { 0xff, 0x50 }, false },
};

UMA_TEST(memguard_scan_knows_the_call_encodings)
{
	uint8_t code[16];

	for (size_t i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
		const struct enc *e = &encs[i];

		memset(code, 0x90, sizeof(code));	/* nops before */
		memcpy(code + 8 - e->len, e->b, e->len);
		if (uma__mg_after_call(code + 8) != e->call) {
			fprintf(stderr, "%s: %s\n", e->what, e->call ?
			    "not taken for a call" : "taken for a call");
			CHECK(false);
		}
	}
}

static __attribute__((noinline)) bool
scan_finds_my_caller(void)
{
	void *frames[MG_STACK];
	void *ret = __builtin_return_address(0);
	bool scanned = false, found = false;
	int n;

	n = uma__mg_stack(frames, true, &scanned);
	CHECK(scanned);
	CHECK(n > 0);
	for (int i = 0; i < n; i++)
		found |= frames[i] == ret;
	__asm__ volatile("" ::: "memory");	/* a call above, not a jump */
	return (found);
}

UMA_TEST(memguard_scan_finds_the_callers)
{
	bool found = scan_finds_my_caller();

	__asm__ volatile("" ::: "memory");
	CHECK(found);
}
#else
UMA_TEST(memguard_scan_is_x86_64_only)
{
	exit(77);
}
#endif
