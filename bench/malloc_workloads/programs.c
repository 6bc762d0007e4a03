/*
 * programs.c - real programs that allocate heavily, run on input this
 * bench generates (the same bytes every time, from a fixed seed), with
 * the allocator the bench runs under: LD_PRELOAD passes to the program
 * and to every program it starts.  Generating the input is not timed;
 * the peak RSS is the largest ru_maxrss among the program and the
 * programs it waited for (the compiler proper under gcc).
 *
 *   gcc      gcc -O2 -c on a generated C file of 60 functions
 *   python   python3 on a fixed script (dicts, lists, strings, objects,
 *            json), every object through malloc (PYTHONMALLOC=malloc)
 *   sqlite   sqlite3 on a generated SQL script: 120,000 inserts into an
 *            in-memory database, an index, joins, grouping, updates
 *   xz       xz -3 -T2 compressing 8 MiB of generated text and noise in
 *            2 MiB blocks (each block's encoder allocates its own
 *            dictionary and match finder: tens of MiB, allocated and
 *            freed per block)
 *
 * A program that is not installed makes the workload fail with exit
 * status 3, which malloc_run.sh reports as skipped.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mw.h"

extern char **environ;

static char workdir[64];

static void
workdir_remove(void)
{
	static const char *const files[] = {
		"gen.c", "gen.o", "script.py", "script.sql", "data.txt",
	};
	char path[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", workdir, files[i]);
		unlink(path);
	}
	rmdir(workdir);
}

/* A private directory for the input, removed at exit. */
static int
workdir_make(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(workdir, sizeof(workdir), "%s/mw.XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(workdir) == NULL) {
		perror("malloc_workloads: mkdtemp");
		return (1);
	}
	atexit(workdir_remove);
	return (0);
}

static FILE *
input_open(const char *name)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	if ((f = fopen(path, "w")) == NULL)
		fprintf(stderr, "malloc_workloads: %s: %m\n", path);
	return (f);
}

static int
input_close(FILE *f)
{
	if (ferror(f) | fclose(f)) {
		perror("malloc_workloads: writing the input");
		return (1);
	}
	return (0);
}

/*
 * The programs run in the work directory: a relative LD_PRELOAD would not
 * load there (ld.so says so on the program's stderr, which goes to
 * /dev/null, and the run would measure glibc), so make it absolute.
 */
static int
preload_absolute(void)
{
	const char *pre = getenv("LD_PRELOAD");
	char *abs;
	int err;

	if (pre == NULL || pre[0] == '\0' || pre[0] == '/')
		return (0);
	if (strpbrk(pre, ": ") != NULL) {
		fprintf(stderr, "malloc_workloads: LD_PRELOAD=%s: give one "
		    "absolute path\n", pre);
		return (1);
	}
	if ((abs = realpath(pre, NULL)) == NULL) {
		fprintf(stderr, "malloc_workloads: LD_PRELOAD=%s: %m\n", pre);
		return (1);
	}
	err = setenv("LD_PRELOAD", abs, 1);
	free(abs);
	return (err);
}

/* Is `prog` an executable on PATH (or a path that is)? */
static int
have_program(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[512];

	if (strchr(prog, '/') != NULL)
		return (access(prog, X_OK) == 0);
	while (path != NULL && *path != '\0') {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return (1);
		path += n + (path[n] == ':');
	}
	return (0);
}

/*
 * Run argv in the work directory, stdin from `in` there (or /dev/null),
 * stdout and stderr to /dev/null, and wait; the program's peak RSS goes
 * to mw_child_peak_kib.  Returns 0 if it exited with status 0.
 */
static int
program_run(char *const argv[], const char *in)
{
	posix_spawn_file_actions_t fa;
	char path[128];
	struct rusage ru;
	pid_t pid;
	int st, err;

	if (!have_program(argv[0])) {
		fprintf(stderr, "malloc_workloads: %s is not installed\n",
		    argv[0]);
		exit(3);
	}
	if (preload_absolute() != 0)
		return (1);
	snprintf(path, sizeof(path), "%s/%s", workdir,
	    in != NULL ? in : "");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in != NULL ? path :
	    "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addchdir_np(&fa, workdir);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0) {
		fprintf(stderr, "malloc_workloads: %s: %s\n", argv[0],
		    strerror(err));
		return (1);
	}
	if (wait4(pid, &st, 0, &ru) != pid) {
		perror("malloc_workloads: wait4");
		return (1);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "malloc_workloads: %s failed (status %#x)\n",
		    argv[0], st);
		return (1);
	}
	if (ru.ru_maxrss > mw_child_peak_kib)
		mw_child_peak_kib = ru.ru_maxrss;
	mw_sum += (uint64_t)ru.ru_minflt;
	return (0);
}

/*
 * Each run function makes its input, then restarts the clock
 * (mw_clock_restart): only the program's run is timed.
 */

/* ---- gcc ---- */
#define	GCC_FUNCS	60

static int
gen_c_file(void)
{
	FILE *f = input_open("gen.c");
	uint64_t s = 2024;

	if (f == NULL)
		return (1);
	fprintf(f, "struct node { struct node *l, *r; long k, v[4]; };\n"
	    "static long tab[64];\n");
	for (int i = 0; i < GCC_FUNCS; i++) {
		int cases = 8 + (int)(mw_rand(&s) % 24);

		fprintf(f, "long f%d(struct node *n, long x, long y)\n{\n"
		    "\tlong a[16] = { 0 }, acc = %d;\n"
		    "\tfor (int i = 0; i < 16; i++) {\n"
		    "\t\ta[i] = (x * %d + i) ^ (y >> (i & 7));\n"
		    "\t\tif (n != 0 && n->k > a[i])\n"
		    "\t\t\tacc += n->v[i & 3] * a[(i + %d) & 15];\n"
		    "\t}\n\tswitch ((x + acc) & 63) {\n", i, i,
		    (int)(mw_rand(&s) % 97), (int)(mw_rand(&s) % 16));
		for (int c = 0; c < cases; c++)
			fprintf(f, "\tcase %d: acc = acc * %d + tab[%d] - "
			    "(n ? n->l ? n->l->k : %d : y); break;\n", c,
			    (int)(mw_rand(&s) % 1000), c,
			    (int)(mw_rand(&s) % 50));
		fprintf(f, "\tdefault: acc ^= x;\n\t}\n");
		if (i > 0)
			fprintf(f, "\tif (acc > %d)\n\t\tacc += f%d(n ? n->r "
			    ": 0, acc, x);\n", (int)(mw_rand(&s) % 100000),
			    (int)(mw_rand(&s) % (uint64_t)i));
		fprintf(f, "\treturn (acc);\n}\n\n");
	}
	return (input_close(f));
}

static int
run_gcc(void)
{
	char *argv[] = { "gcc", "-O2", "-c", "gen.c", "-o", "gen.o", NULL };

	if (workdir_make() != 0 || gen_c_file() != 0)
		return (1);
	mw_clock_restart();
	return (program_run(argv, NULL));
}

/* ---- python ---- */
static const char python_script[] =
"import json\n"
"class Node:\n"
"    __slots__ = ('key', 'left', 'right', 'items')\n"
"    def __init__(self, key):\n"
"        self.key = key\n"
"        self.left = self.right = None\n"
"        self.items = [key, str(key), (key, key * 2)]\n"
"def insert(root, key):\n"
"    node = root\n"
"    while True:\n"
"        if key < node.key:\n"
"            if node.left is None:\n"
"                node.left = Node(key)\n"
"                return\n"
"            node = node.left\n"
"        else:\n"
"            if node.right is None:\n"
"                node.right = Node(key)\n"
"                return\n"
"            node = node.right\n"
"def walk(node):\n"
"    total = 0\n"
"    stack = [node]\n"
"    while stack:\n"
"        n = stack.pop()\n"
"        if n is None:\n"
"            continue\n"
"        total += len(n.items[1])\n"
"        stack.append(n.left)\n"
"        stack.append(n.right)\n"
"    return total\n"
"x = 12345\n"
"def rnd():\n"
"    global x\n"
"    x = (x * 1103515245 + 12345) % 2147483648\n"
"    return x\n"
"total = 0\n"
"for rounds in range(2):\n"
"    d = {}\n"
"    for i in range(60000):\n"
"        k = 'k%d_%d' % (rnd() % 100000, i % 7)\n"
"        d.setdefault(k, []).append({'id': i, 'name': k * 2, "
"'tags': [k[:3], k[-3:]]})\n"
"    words = sorted(d, key=lambda w: (len(d[w]), w))\n"
"    text = json.dumps([d[w] for w in words[:8000]])\n"
"    back = json.loads(text)\n"
"    total += len(back) + len(' '.join(words))\n"
"    root = Node(rnd())\n"
"    for i in range(30000):\n"
"        insert(root, rnd())\n"
"    total += walk(root)\n"
"    s = set()\n"
"    for w in words:\n"
"        s |= {w[:4], w[2:6]}\n"
"    total += len(s)\n"
"    del d, words, text, back, root, s\n"
"print(total)\n";

static int
run_python(void)
{
	char *argv[] = { "python3", "-S", "script.py", NULL };
	FILE *f;

	if (workdir_make() != 0 || (f = input_open("script.py")) == NULL)
		return (1);
	fputs(python_script, f);
	if (input_close(f) != 0 || setenv("PYTHONMALLOC", "malloc", 1) != 0)
		return (1);
	mw_clock_restart();
	return (program_run(argv, NULL));
}

/* ---- sqlite ---- */
#define	SQL_ROWS	120000

static void
gen_word(FILE *f, uint64_t *s)
{
	static const char syl[][4] = { "ka", "lo", "mi", "ne", "ru", "sta",
	    "por", "tel", "vin", "dra", "quo", "ze" };
	int n = 1 + (int)(mw_rand(s) % 4);

	while (n-- > 0)
		fputs(syl[mw_rand(s) % 12], f);
}

static int
gen_sql(void)
{
	FILE *f = input_open("script.sql");
	uint64_t s = 99;

	if (f == NULL)
		return (1);
	fprintf(f, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, "
	    "grp INTEGER, score REAL, note TEXT);\n"
	    "CREATE TABLE g(id INTEGER PRIMARY KEY, label TEXT);\nBEGIN;\n");
	for (int i = 0; i < 1000; i++) {
		fprintf(f, "INSERT INTO g VALUES(%d,'", i);
		gen_word(f, &s);
		fprintf(f, "');\n");
	}
	for (int i = 0; i < SQL_ROWS; i++) {
		fprintf(f, "INSERT INTO t VALUES(%d,'", i);
		gen_word(f, &s);
		fputc(' ', f);
		gen_word(f, &s);
		fprintf(f, "',%d,%d.%02d,'", (int)(mw_rand(&s) % 1000),
		    (int)(mw_rand(&s) % 10000), (int)(mw_rand(&s) % 100));
		for (int w = (int)(mw_rand(&s) % 12); w >= 0; w--) {
			gen_word(f, &s);
			fputc(' ', f);
		}
		fprintf(f, "');\n");
	}
	fprintf(f, "COMMIT;\n"
	    "CREATE INDEX t_name ON t(name);\n"
	    "CREATE INDEX t_grp ON t(grp, score);\n"
	    "SELECT g.label, count(*), avg(t.score), max(length(t.note)) "
	    "FROM t JOIN g ON g.id = t.grp GROUP BY g.label ORDER BY 2 DESC "
	    "LIMIT 20;\n"
	    "SELECT name, group_concat(note, '|') FROM t GROUP BY name "
	    "ORDER BY length(group_concat(note, '|')) DESC LIMIT 5;\n"
	    "UPDATE t SET note = note || name WHERE grp %% 3 = 0;\n"
	    "DELETE FROM t WHERE score < 2000;\n"
	    "SELECT count(*), sum(length(note)) FROM t a WHERE EXISTS "
	    "(SELECT 1 FROM t b WHERE b.name = a.name AND b.id <> a.id);\n"
	    "CREATE TABLE u AS SELECT grp, name, upper(note) AS n FROM t "
	    "ORDER BY note;\n"
	    "SELECT count(DISTINCT n) FROM u;\n");
	return (input_close(f));
}

static int
run_sqlite(void)
{
	char *argv[] = { "sqlite3", ":memory:", NULL };

	if (workdir_make() != 0 || gen_sql() != 0)
		return (1);
	mw_clock_restart();
	return (program_run(argv, "script.sql"));
}

/* ---- xz ---- */
#define	XZ_BYTES	(8 << 20)

static int
gen_xz_data(void)
{
	FILE *f = input_open("data.txt");
	uint64_t s = 5;
	long n = 0;

	if (f == NULL)
		return (1);
	/* Mostly words, with stretches of noise that do not compress. */
	while (n < XZ_BYTES) {
		long start = ftell(f);

		if (mw_rand(&s) % 8 == 0)
			for (int i = 0; i < 512; i++)
				fputc((int)(mw_rand(&s) & 0xff), f);
		else {
			for (int i = 0; i < 64; i++) {
				gen_word(f, &s);
				fputc(mw_rand(&s) % 10 == 0 ? '\n' : ' ', f);
			}
		}
		n += ftell(f) - start;
	}
	return (input_close(f));
}

static int
run_xz(void)
{
	char *argv[] = { "xz", "-3", "-T2", "--block-size=2MiB", "-c", "-k",
	    "data.txt", NULL };

	if (workdir_make() != 0 || gen_xz_data() != 0)
		return (1);
	mw_clock_restart();
	return (program_run(argv, NULL));
}

const struct mw_workload mw_programs[] = {
	{ "gcc", run_gcc, "gcc -O2 on a generated C file" },
	{ "python", run_python, "python3 on a fixed script" },
	{ "sqlite", run_sqlite, "sqlite3 on a generated SQL script" },
	{ "xz", run_xz, "xz -3 -T2 on 8 MiB of generated data" },
	{ NULL, NULL, NULL },
};
