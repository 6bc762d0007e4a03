/*
 * mbuf_debug.c - looking at chains: m_print, m_sanity, and mbuf_panic for
 * the KPI's assertions (M_ASSERTPKTHDR).
 *
 * Layer: mbuf.  Reads chains and frees only what m_sanity is told to
 * sanitize; FreeBSD's uipc_mbuf.c is the model.  Output goes to stderr,
 * the user-space stand-in for the console.
 */
#include <stdarg.h>
#include <stdio.h>

#include "mbuf_int.h"

/* See mbuf.h */
void
mbuf_panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uma__panic("mbuf: %s", msg);
}

static const struct {
	uint32_t	 bit;
	const char	*name;
} m_flag_names[] = {
	{ M_EXT, "EXT" }, { M_PKTHDR, "PKTHDR" }, { M_EOR, "EOR" },
	{ M_RDONLY, "RDONLY" }, { M_BCAST, "BCAST" }, { M_MCAST, "MCAST" },
	{ M_PROMISC, "PROMISC" }, { M_VLANTAG, "VLANTAG" },
	{ M_NOFREE, "NOFREE" }, { M_PROTO1, "PROTO1" }, { M_PROTO2, "PROTO2" },
	{ M_PROTO3, "PROTO3" }, { M_PROTO4, "PROTO4" }, { M_PROTO5, "PROTO5" },
	{ M_PROTO6, "PROTO6" }, { M_PROTO7, "PROTO7" }, { M_PROTO8, "PROTO8" },
	{ M_PROTO9, "PROTO9" }, { M_PROTO10, "PROTO10" },
	{ M_PROTO11, "PROTO11" }, { M_PROTO12, "PROTO12" },
};

/* m_flags as printf(9)'s %b shows them: 0x3<EXT,PKTHDR>. */
static void
print_flags(FILE *f, uint32_t flags)
{
	const char *sep = "<";

	fprintf(f, "%#x", flags);
	for (size_t i = 0; i < nitems(m_flag_names); i++) {
		if (flags & m_flag_names[i].bit) {
			fprintf(f, "%s%s", sep, m_flag_names[i].name);
			sep = ",";
		}
	}
	if (*sep == ',')
		fputc('>', f);
}

/* See mbuf.h */
void
m_print(const struct mbuf *m, int maxlen)
{
	const struct mbuf *m2;
	int len, pdata;

	if (m == NULL) {
		fprintf(stderr, "mbuf: %p\n", (const void *)m);
		return;
	}
	len = (m->m_flags & M_PKTHDR) ? m->m_pkthdr.len : -1;
	for (m2 = m; m2 != NULL && len != 0; m2 = m2->m_next) {
		pdata = m2->m_len;
		if (maxlen != -1 && pdata > maxlen)
			pdata = maxlen;
		if (len > 0 && pdata > len)
			pdata = len;
		fprintf(stderr, "mbuf: %p len: %d, next: %p, ",
		    (const void *)m2, m2->m_len, (void *)m2->m_next);
		print_flags(stderr, m2->m_flags);
		for (int i = 0; i < pdata; i++)
			fprintf(stderr, "%s%02x", i == 0 ? ", " : "-",
			    (unsigned char)m2->m_data[i]);
		fputc('\n', stderr);
		if (len != -1)
			len = len > m2->m_len ? len - m2->m_len : 0;
	}
	if (len > 0)
		fprintf(stderr, "%d bytes unaccounted for.\n", len);
}

/* m_sanity's report of one problem. */
static void
sanity_report(const struct mbuf *m, const char *what)
{
	fprintf(stderr, "mbuf %p: %s\n", (const void *)m, what);
}

/* See mbuf.h */
int
m_sanity(struct mbuf *m0, int sanitize)
{
	struct mbuf *m;
	char *a, *b;
	int pktlen = 0, sane = 1;

	for (m = m0; m != NULL; m = m->m_next) {
		a = M_START(m);
		b = a + M_SIZE(m);
		if (m->m_data < a) {
			sanity_report(m, "m_data outside mbuf data range left");
			sane = 0;
		}
		if (m->m_data > b) {
			sanity_report(m, "m_data outside mbuf data range right");
			sane = 0;
		}
		if (m->m_len < 0 || m->m_data + m->m_len > b) {
			sanity_report(m, "m_data + m_len exceeds mbuf space");
			sane = 0;
		}
		pktlen += m->m_len;
		if (m == m0)
			continue;
		if (m->m_nextpkt != NULL) {
			sanity_report(m, "m->m_nextpkt on in-chain mbuf");
			sane = 0;
			if (sanitize) {
				m_freem(m->m_nextpkt);
				m->m_nextpkt = (struct mbuf *)(uintptr_t)
				    0xdeadc0de;
			}
		}
		if (m->m_flags & M_PKTHDR) {
			sanity_report(m, m_tag_first(m) != NULL ?
			    "m_tags on in-chain mbuf" :
			    "M_PKTHDR on in-chain mbuf");
			sane = 0;
			if (sanitize) {
				m_tag_delete_chain(m, NULL);
				memset(&m->m_pkthdr, 0, sizeof(m->m_pkthdr));
				m->m_flags &= ~(uint32_t)M_PKTHDR;
			}
		}
	}
	if ((m0->m_flags & M_PKTHDR) && m0->m_pkthdr.len != pktlen) {
		sanity_report(m0, "m_pkthdr.len != mbuf chain length");
		sane = 0;
		if (sanitize)
			m0->m_pkthdr.len = 0;
	}
	return (sane);
}
