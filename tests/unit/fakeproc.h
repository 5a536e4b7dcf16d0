/* fakeproc.h - starts and stops the fake orchestrator servers of
 * tests/fakes/ from C tests (header-only, shared by the connector tests).
 *
 * fake_start forks `python3 tests/fakes/SCRIPT --port-file F --request-log L
 * ARGS...` (run from $ROOT, default "."), waits for the port file, and fills
 * f->url.  fake_stop sends SIGTERM, reaps it and removes its temp dir.
 * fake_source fills a source of `kind` pointing at url with test defaults. */
#ifndef DAGDOC_TEST_FAKEPROC_H
#define DAGDOC_TEST_FAKEPROC_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dagdoc/config.h"

static inline void fake_source(struct dd_source *s, enum dd_source_kind kind, const char *url)
{
	memset(s, 0, sizeof(*s));
	s->name = (char *)"test";
	s->kind = kind;
	s->url = (char *)url;
	s->concurrency = 8;
	s->timeout_s = 20;
	s->connect_timeout_s = 5;
	s->max_log_bytes = 16 << 20;
	s->origin = (char *)"environment";
}

struct fake {
	pid_t pid;
	int port;
	char dir[256];
	char url[128];
	char reqlog[300];
};

static inline const char *fake_root(void)
{
	const char *r = getenv("ROOT");
	return r && *r ? r : ".";
}

/* A temp dir for test files (worlds, faults). */
static inline void fake_tmpdir(char *out, size_t n)
{
	snprintf(out, n, "/tmp/ddtest.XXXXXX");
	if (!mkdtemp(out))
		abort();
}

static inline void fake_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static inline void fake_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

/* args: NULL-terminated extra arguments. Returns 0 or -1. */
static inline int fake_start(struct fake *f, const char *script, const char *const *args)
{
	char portfile[300], scriptpath[512];
	const char *argv[40];
	int n = 0;

	memset(f, 0, sizeof(*f));
	fake_tmpdir(f->dir, sizeof(f->dir));
	snprintf(portfile, sizeof(portfile), "%s/port", f->dir);
	snprintf(f->reqlog, sizeof(f->reqlog), "%s/requests.log", f->dir);
	snprintf(scriptpath, sizeof(scriptpath), "%s/tests/fakes/%s", fake_root(), script);
	argv[n++] = "python3";
	argv[n++] = scriptpath;
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--request-log";
	argv[n++] = f->reqlog;
	for (int i = 0; args && args[i] && n < 38; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		/* never outlive the test, even when it is killed */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (devnull >= 0 && !getenv("FAKE_STDERR"))
			dup2(devnull, 2);
		execv("/usr/bin/python3", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		FILE *pf = fopen(portfile, "r");
		if (pf) {
			int ok = fscanf(pf, "%d", &f->port) == 1;
			fclose(pf);
			if (ok && f->port > 0) {
				snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
				return 0;
			}
		}
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
			f->pid = 0;
			return -1;
		}
		usleep(50 * 1000);
	}
	return -1;
}

static inline void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	if (f->dir[0])
		fake_rmdir(f->dir);
	f->dir[0] = '\0';
}

/* Lines of the request log that contain `needle` (all when NULL). */
static inline int fake_count(const struct fake *f, const char *needle)
{
	FILE *fp = fopen(f->reqlog, "r");
	char line[4096];
	int n = 0;

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (!needle || strstr(line, needle))
			n++;
	fclose(fp);
	return n;
}

/* A port nothing listens on: bind, read the port, close. */
static inline int fake_closed_port(void)
{
	int port = 1;
	FILE *p = popen("/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind((\"127.0.0.1\",0));"
	                "print(s.getsockname()[1]);s.close()'", "r");
	if (p) {
		if (fscanf(p, "%d", &port) != 1)
			port = 1;
		pclose(p);
	}
	return port;
}

#endif
