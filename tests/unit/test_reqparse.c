/* Unit tests: src/reqparse.c on the dependency file shapes users have. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>

#include "dagdoc/reqparse.h"

static void parse(const char *path, const char *text, struct dd_reqset *set)
{
	reqparse(path, text, strlen(text), NULL, NULL, set);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_int_equal(reqparse_kind_for("requirements.txt"), REQ_TXT);
	assert_int_equal(reqparse_kind_for("deploy/requirements-prod.txt"), REQ_TXT);
	assert_int_equal(reqparse_kind_for("constraints-3.11.txt"), REQ_TXT);
	assert_int_equal(reqparse_kind_for("requirements/base.txt"), REQ_TXT);
	assert_int_equal(reqparse_kind_for("pyproject.toml"), REQ_PYPROJECT);
	assert_int_equal(reqparse_kind_for("a/poetry.lock"), REQ_LOCK_TOML);
	assert_int_equal(reqparse_kind_for("uv.lock"), REQ_LOCK_TOML);
	assert_int_equal(reqparse_kind_for("Pipfile.lock"), REQ_PIPFILE_LOCK);
	assert_int_equal(reqparse_kind_for("environment.yml"), REQ_CONDA);
	assert_int_equal(reqparse_kind_for("docker/Dockerfile"), REQ_DOCKERFILE);
	assert_int_equal(reqparse_kind_for("Dockerfile.worker"), REQ_DOCKERFILE);
	assert_int_equal(reqparse_kind_for("dags/etl.py"), REQ_NONE);
	assert_int_equal(reqparse_kind_for(".python-version"), REQ_PYTHON_VERSION);
	assert_int_equal(reqparse_kind_for("app/runtime.txt"), REQ_PYTHON_VERSION);
	assert_int_equal(reqparse_kind_for("Pipfile"), REQ_PIPFILE);
	assert_int_equal(reqparse_kind_for("README.txt"), REQ_NONE);
}

static void test_requirements_txt(void **state)
{
	struct dd_reqset s = DD_REQSET_INIT;

	(void)state;
	parse("requirements.txt",
	      "# ML deps\n"
	      "pandas==1.5.3\n"
	      "scikit-learn>=1.2, <1.4  # pinned for pickles\n"
	      "SQLAlchemy[asyncio]==1.4.51 ; python_version >= \"3.8\"\n"
	      "apache-airflow-providers-google\n"
	      "--index-url https://example/simple\n"
	      "-e git+https://github.com/org/lib.git@v1#egg=our_lib\n"
	      "numpy==1.26.4 \\\n    --hash=sha256:abc\n"
	      "requests ~= 2.31\n"
	      "Jinja2===3.1.2\n",
	      &s);
	assert_string_equal(reqset_get(&s, "pandas"), "1.5.3");
	assert_string_equal(reqset_get(&s, "scikit-learn"), ">=1.2,<1.4");
	assert_string_equal(reqset_get(&s, "sqlalchemy"), "1.4.51");
	assert_string_equal(reqset_get(&s, "apache_airflow_providers_google"), "");
	assert_string_equal(reqset_get(&s, "our-lib"), "");
	assert_string_equal(reqset_get(&s, "numpy"), "1.26.4");
	assert_string_equal(reqset_get(&s, "requests"), "~=2.31");
	assert_string_equal(reqset_get(&s, "jinja2"), "3.1.2");
	assert_int_equal(s.n, 8);
	reqset_release(&s);
}

static int include_cb(const char *path, struct dd_buf *out, void *ud)
{
	(void)ud;
	if (!strcmp(path, "reqs/base.txt")) {
		dd_buf_adds(out, "pandas==2.0.0\n-c constraints.txt\n");
		return 0;
	}
	if (!strcmp(path, "reqs/constraints.txt")) {
		dd_buf_adds(out, "numpy==1.24.0\n");
		return 0;
	}
	return -1;
}

static void test_includes(void **state)
{
	struct dd_reqset s = DD_REQSET_INIT;
	const char *text = "-r base.txt\nrequests==2.31.0\n-r missing.txt\n";

	(void)state;
	reqparse("reqs/requirements.txt", text, strlen(text), include_cb, NULL, &s);
	assert_string_equal(reqset_get(&s, "pandas"), "2.0.0");
	assert_string_equal(reqset_get(&s, "numpy"), "1.24.0");
	assert_string_equal(reqset_get(&s, "requests"), "2.31.0");
	reqset_release(&s);
}

static void test_pyproject(void **state)
{
	struct dd_reqset s = DD_REQSET_INIT;

	(void)state;
	parse("pyproject.toml",
	      "[build-system]\nrequires = [\"setuptools>=61\"]\n\n"
	      "[project]\nname = \"pipelines\"\nversion = \"0.3.0\"\n"
	      "dependencies = [\n  \"pandas==2.0.0\",\n  \"pyarrow>=12\",\n  'pydantic>=2,<3',\n]\n"
	      "[project.optional-dependencies]\ndev = [\"pytest==8.0.0\"]\n"
	      "[tool.poetry.dependencies]\npython = \"^3.10\"\nnumpy = \"1.26.4\"\n"
	      "torch = { version = \"2.1.0\", source = \"pytorch\" }\n"
	      "[tool.poetry.group.dev.dependencies]\nblack = \"^24.1\"\n"
	      "[tool.black]\nline-length = 100\n",
	      &s);
	assert_string_equal(reqset_get(&s, "pandas"), "2.0.0");
	assert_string_equal(reqset_get(&s, "pyarrow"), ">=12");
	assert_string_equal(reqset_get(&s, "pydantic"), ">=2,<3");
	assert_string_equal(reqset_get(&s, "pytest"), "8.0.0");
	assert_string_equal(reqset_get(&s, "numpy"), "1.26.4");
	assert_string_equal(reqset_get(&s, "torch"), "2.1.0");
	assert_string_equal(reqset_get(&s, "black"), "^24.1");
	/* Poetry's `python =` of the main table is the interpreter the project needs */
	assert_string_equal(reqset_get(&s, "python"), "^3.10");
	assert_null(reqset_get(&s, "setuptools"));
	assert_null(reqset_get(&s, "line-length"));
	reqset_release(&s);
}

static void test_locks(void **state)
{
	struct dd_reqset s = DD_REQSET_INIT;

	(void)state;
	parse("poetry.lock",
	      "[[package]]\nname = \"pandas\"\nversion = \"2.0.0\"\ndescription = \"x\"\n\n"
	      "[package.dependencies]\nnumpy = \">=1.21\"\n\n"
	      "[[package]]\nname = \"numpy\"\nversion = \"1.26.4\"\n\n[metadata]\nlock-version = \"2.0\"\n",
	      &s);
	assert_string_equal(reqset_get(&s, "pandas"), "2.0.0");
	assert_string_equal(reqset_get(&s, "numpy"), "1.26.4");
	assert_int_equal(s.n, 2);
	reqset_release(&s);

	parse("Pipfile.lock",
	      "{\"_meta\": {}, \"default\": {\"pandas\": {\"hashes\": [], \"version\": \"==1.5.3\"}},"
	      " \"develop\": {\"pytest\": {\"version\": \"==7.4.0\"}}}", &s);
	assert_string_equal(reqset_get(&s, "pandas"), "1.5.3");
	assert_string_equal(reqset_get(&s, "pytest"), "7.4.0");
	reqset_release(&s);
}

static void test_conda(void **state)
{
	struct dd_reqset s = DD_REQSET_INIT;

	(void)state;
	parse("environment.yml",
	      "name: ml\nchannels: [conda-forge]\ndependencies:\n"
	      "  - python=3.10\n  - pandas=1.5.3=py310h\n  - conda-forge::numpy==1.24.4\n  - pip\n"
	      "  - pip:\n    - torch==2.1.0\n",
	      &s);
	assert_string_equal(reqset_get(&s, "pandas"), "1.5.3");
	assert_string_equal(reqset_get(&s, "numpy"), "1.24.4");
	assert_string_equal(reqset_get(&s, "torch"), "2.1.0");
	assert_string_equal(reqset_get(&s, "python"), "3.10");
	reqset_release(&s);
}

static void test_dockerfile(void **state)
{
	struct dd_reqset s = DD_REQSET_INIT;

	(void)state;
	parse("Dockerfile",
	      "FROM apache/airflow:2.8.1-python3.10 AS base\n"
	      "RUN pip install --no-cache-dir pandas==2.0.0 \\\n    'pyarrow>=12' && rm -rf /tmp/x\n"
	      "RUN python -m pip install -r /requirements.txt scikit-learn==1.3.0\n"
	      "COPY dags/ /opt/airflow/dags/\n",
	      &s);
	assert_string_equal(reqset_get(&s, "apache/airflow"), "2.8.1-python3.10");
	assert_string_equal(reqset_get(&s, "pandas"), "2.0.0");
	assert_string_equal(reqset_get(&s, "pyarrow"), ">=12");
	assert_string_equal(reqset_get(&s, "scikit-learn"), "1.3.0");
	assert_null(reqset_get(&s, "rm"));
	reqset_release(&s);
}

static void test_diff(void **state)
{
	struct dd_reqset a = DD_REQSET_INIT, b = DD_REQSET_INIT;
	struct dd_req_change *ch;
	size_t n;

	(void)state;
	parse("requirements.txt", "pandas==1.5.3\nnumpy==1.24.0\nrequests==2.31.0\n", &a);
	parse("requirements.txt", "pandas==2.0.0\nrequests==2.31.0\npolars==0.20.1\n", &b);
	reqparse_diff(&a, &b, "requirements.txt", &ch, &n);
	assert_int_equal(n, 3);
	assert_string_equal(ch[0].package, "numpy");
	assert_string_equal(ch[0].from, "1.24.0");
	assert_null(ch[0].to);
	assert_string_equal(ch[1].package, "pandas");
	assert_string_equal(ch[1].from, "1.5.3");
	assert_string_equal(ch[1].to, "2.0.0");
	assert_string_equal(ch[2].package, "polars");
	assert_null(ch[2].from);
	assert_string_equal(ch[2].file, "requirements.txt");
	req_changes_free(ch, n);
	reqset_release(&a);
	reqset_release(&b);
}

/* Where each requirement is written, and which are loose. */
static void test_lines_and_exact(void **state)
{
	struct dd_reqset s = DD_REQSET_INIT;

	(void)state;
	parse("venvs/newsletter/requirements.txt",
	      "# the renderer's virtualenv\n"
	      "Jinja2>=2.10,<3\n"
	      "markupsafe\n"
	      "numpy==1.26.4 \\\n    --hash=sha256:abc\n"
	      "premailer==3.10.0\n",
	      &s);
	assert_int_equal(reqset_find(&s, "jinja2")->line, 2);
	assert_int_equal(reqset_find(&s, "MarkupSafe")->line, 3);
	assert_int_equal(reqset_find(&s, "numpy")->line, 4);
	assert_int_equal(reqset_find(&s, "premailer")->line, 6);
	assert_null(reqset_find(&s, "pandas"));
	assert_false(reqparse_is_exact(reqset_get(&s, "jinja2")));
	assert_false(reqparse_is_exact(reqset_get(&s, "markupsafe")));
	assert_true(reqparse_is_exact(reqset_get(&s, "numpy")));
	assert_false(reqparse_is_exact("~=2.31"));
	assert_false(reqparse_is_exact("^2.0"));
	assert_false(reqparse_is_exact("2.*"));
	assert_true(reqparse_is_exact("2.9.0.post0"));
	reqset_release(&s);
}

/* pip-compile's "# via" comments are the dependency graph of requirements.txt. */
static void test_pip_compile_via(void **state)
{
	struct dd_reqset a = DD_REQSET_INIT, b = DD_REQSET_INIT;
	struct dd_req_change *ch;
	size_t n;
	const char *head =
		"#\n# This file is autogenerated by pip-compile with Python 3.11\n#\n"
		"apache-airflow-providers-snowflake==5.8.0\n    # via -r requirements.in\n"
		"joblib==1.4.2\n    # via scikit-learn\n";
	const char *tail =
		"    # via\n    #   pandas\n    #   scikit-learn\n    #   scipy\n"
		"pandas==2.0.3\n    # via -r requirements.in\n"
		"python-dateutil==2.9.0.post0\n    # via pandas\n"
		"scipy==1.11.4\n    # via scikit-learn, statsmodels\n";
	char *t1 = dd_xasprintf("%snumpy==1.26.4\n%s", head, tail), *t2 = dd_xasprintf("%snumpy==2.0.0\n%s", head, tail);

	(void)state;
	parse("requirements.txt", t1, &a);
	parse("requirements.txt", t2, &b);
	assert_true(reqset_requires(&a, "pandas", "numpy"));
	assert_true(reqset_requires(&a, "scikit-learn", "numpy"));
	assert_true(reqset_requires(&a, "scipy", "numpy"));
	assert_true(reqset_requires(&a, "scikit_learn", "joblib"));
	assert_true(reqset_requires(&a, "statsmodels", "scipy"));
	assert_true(reqset_requires(&a, "pandas", "python-dateutil"));
	assert_false(reqset_requires(&a, "numpy", "pandas"));
	assert_false(reqset_requires(&a, "requirements.in", "pandas"));
	assert_false(reqset_requires(&a, "pandas", "scipy"));
	assert_int_equal(a.n, 6);
	reqparse_diff(&a, &b, "requirements.txt", &ch, &n);
	assert_int_equal(n, 1);
	assert_string_equal(ch[0].package, "numpy");
	assert_int_equal(ch[0].required_by.n, 3);
	assert_string_equal(ch[0].required_by.v[0], "pandas");
	assert_string_equal(ch[0].required_by.v[1], "scikit-learn");
	assert_string_equal(ch[0].required_by.v[2], "scipy");
	req_changes_free(ch, n);
	/* a plain requirements file has no graph */
	reqset_release(&a);
	parse("requirements.txt", "# pinned for the pickles\npandas==2.0.3\n# via the ops team\nnumpy==1.26.4\n", &a);
	assert_int_equal(a.n_edges, 0);
	reqset_release(&a);
	reqset_release(&b);
	free(t1);
	free(t2);
}

/* poetry.lock's [package.dependencies] and uv.lock's dependencies = [...]. */
static void test_lock_graphs(void **state)
{
	struct dd_reqset s = DD_REQSET_INIT;

	(void)state;
	parse("poetry.lock",
	      "[[package]]\nname = \"pandas\"\nversion = \"2.0.3\"\noptional = false\nfiles = []\n\n"
	      "[package.dependencies]\nnumpy = [\n"
	      "    {version = \">=1.21.0\", markers = \"python_version >= \\\"3.10\\\"\"},\n"
	      "    {version = \">=1.23.2\", markers = \"python_version >= \\\"3.11\\\"\"},\n]\n"
	      "python-dateutil = \">=2.8.2\"\ntzdata = {version = \">=2022.1\"}\n\n"
	      "[package.extras]\nperformance = [\"bottleneck (>=1.3.2)\", \"numba (>=0.53.1)\"]\n\n"
	      "[[package]]\nname = \"numpy\"\nversion = \"2.0.0\"\nfiles = []\n\n"
	      "[[package]]\nname = \"ruff\"\nversion = \"0.4.10\"\n\n"
	      "[metadata]\nlock-version = \"2.0\"\npython-versions = \">=3.11,<3.13\"\n",
	      &s);
	assert_string_equal(reqset_get(&s, "pandas"), "2.0.3");
	assert_string_equal(reqset_get(&s, "numpy"), "2.0.0");
	assert_string_equal(reqset_get(&s, "ruff"), "0.4.10");
	assert_true(reqset_requires(&s, "pandas", "numpy"));
	assert_true(reqset_requires(&s, "pandas", "python-dateutil"));
	assert_true(reqset_requires(&s, "pandas", "tzdata"));
	assert_false(reqset_requires(&s, "pandas", "bottleneck"));
	assert_false(reqset_requires(&s, "pandas", "ruff"));
	assert_false(reqset_requires(&s, "numpy", "pandas"));
	assert_int_equal(s.n, 3);
	assert_int_equal(s.n_edges, 3);
	reqset_release(&s);

	parse("uv.lock",
	      "version = 1\nrequires-python = \">=3.11\"\n\n"
	      "[[package]]\nname = \"scikit-learn\"\nversion = \"1.3.2\"\nsource = { registry = \"https://pypi.org/simple\" }\n"
	      "dependencies = [\n    { name = \"joblib\" },\n    { name = \"numpy\", marker = \"python_version >= '3.11'\" },\n"
	      "    { name = \"scipy\", extra = [\"full\"] },\n    { name = \"threadpoolctl\" },\n]\n"
	      "wheels = [\n    { url = \"https://x/scikit_learn-1.3.2.whl\", hash = \"sha256:1\" },\n]\n\n"
	      "[[package]]\nname = \"scipy\"\nversion = \"1.14.0\"\ndependencies = [{ name = \"numpy\" }]\n\n"
	      "[[package]]\nname = \"segments\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\n"
	      "dependencies = [\n    { name = \"scikit-learn\" },\n]\n\n"
	      "[package.dev-dependencies]\ndev = [\n    { name = \"pytest\" },\n]\n\n"
	      "[package.metadata]\nrequires-dist = [{ name = \"scikit-learn\", specifier = \"==1.3.2\" }]\n\n"
	      "[[package]]\nname = \"numpy\"\nversion = \"2.0.0\"\n",
	      &s);
	assert_string_equal(reqset_get(&s, "scikit-learn"), "1.3.2");
	assert_string_equal(reqset_get(&s, "numpy"), "2.0.0");
	assert_string_equal(reqset_get(&s, "python"), ">=3.11");
	assert_true(reqset_requires(&s, "scikit-learn", "joblib"));
	assert_true(reqset_requires(&s, "scikit-learn", "numpy"));
	assert_true(reqset_requires(&s, "scikit-learn", "scipy"));
	assert_true(reqset_requires(&s, "scikit-learn", "threadpoolctl"));
	assert_true(reqset_requires(&s, "scipy", "numpy"));
	assert_true(reqset_requires(&s, "segments", "scikit-learn"));
	assert_false(reqset_requires(&s, "segments", "pytest"));
	assert_false(reqset_requires(&s, "scikit-learn", "full"));
	assert_int_equal(s.n_edges, 6);
	assert_null(reqset_get(&s, "pytest"));
	reqset_release(&s);

	/* a Pipfile.lock that records dependencies, and its interpreter */
	parse("Pipfile.lock",
	      "{\"_meta\": {\"requires\": {\"python_version\": \"3.11\"}}, \"default\": {"
	      "\"pandas\": {\"version\": \"==2.0.3\", \"dependencies\": [\"numpy>=1.23.2\", \"pytz\"]},"
	      "\"numpy\": {\"version\": \"==1.26.4\"}}, \"develop\": {}}", &s);
	assert_string_equal(reqset_get(&s, "python"), "3.11");
	assert_true(reqset_requires(&s, "pandas", "numpy"));
	assert_true(reqset_requires(&s, "pandas", "pytz"));
	reqset_release(&s);
}

/* A new interpreter is a dependency change of package "python". */
static void test_interpreter(void **state)
{
	struct dd_reqset a = DD_REQSET_INIT, b = DD_REQSET_INIT;
	struct dd_req_change *ch;
	size_t n;

	(void)state;
	parse("Dockerfile", "FROM apache/airflow:2.10.5-python3.11\nCOPY requirements.txt /r.txt\n", &a);
	parse("Dockerfile", "FROM apache/airflow:2.10.5-python3.12\nCOPY requirements.txt /r.txt\n", &b);
	assert_string_equal(reqset_get(&a, "python"), "3.11");
	assert_string_equal(reqset_get(&a, "apache-airflow"), "2.10.5");
	assert_int_equal(reqset_find(&a, "python")->line, 1);
	reqparse_diff(&a, &b, "Dockerfile", &ch, &n);
	assert_int_equal(n, 2);   /* the image's tag and the interpreter; Airflow stays 2.10.5 */
	assert_string_equal(ch[0].package, "apache/airflow");
	assert_string_equal(ch[1].package, "python");
	assert_string_equal(ch[1].from, "3.11");
	assert_string_equal(ch[1].to, "3.12");
	req_changes_free(ch, n);
	reqset_release(&a);
	reqset_release(&b);

	parse("docker/Dockerfile", "ARG PY=3.12\nARG BASE=\"slim-bookworm\"\nFROM python:${PY}-${BASE} AS run\n"
	      "RUN pip install pandas\n", &a);
	assert_string_equal(reqset_get(&a, "python"), "3.12");
	assert_string_equal(reqset_get(&a, "python"), "3.12");
	assert_string_equal(reqset_get(&a, "pandas"), "");
	assert_int_equal(reqset_find(&a, "pandas")->line, 4);
	reqset_release(&a);
	parse("Dockerfile", "FROM $UNKNOWN_IMAGE\nFROM prefecthq/prefect:3.1.4-python3.12\n", &a);
	assert_string_equal(reqset_get(&a, "python"), "3.12");
	assert_string_equal(reqset_get(&a, "prefect"), "3.1.4");
	reqset_release(&a);
	parse("Dockerfile", "FROM ghcr.io/acme/base:2024.11-py3.11\n", &a);
	assert_string_equal(reqset_get(&a, "python"), "3.11");
	reqset_release(&a);
	parse("Dockerfile", "FROM node:20-alpine\n", &a);
	assert_null(reqset_get(&a, "python"));
	reqset_release(&a);

	parse(".python-version", "3.13\n", &a);
	assert_string_equal(reqset_get(&a, "python"), "3.13");
	reqset_release(&a);
	parse("runtime.txt", "python-3.11.4\n", &a);
	assert_string_equal(reqset_get(&a, "python"), "3.11.4");
	reqset_release(&a);
	parse("pyproject.toml", "[project]\nname = \"x\"\nrequires-python = \">=3.11\"\ndependencies = []\n", &a);
	assert_string_equal(reqset_get(&a, "python"), ">=3.11");
	reqset_release(&a);
	parse("pyproject.toml", "[tool.poetry.group.dev.dependencies]\npython = \"^3.9\"\n", &a);
	assert_null(reqset_get(&a, "python"));      /* a group's python is no interpreter pin */
	reqset_release(&a);
	parse("Pipfile", "[[source]]\nurl = \"https://pypi.org/simple\"\n\n[packages]\npandas = \"==2.0.3\"\n"
	      "requests = \"*\"\n\n[dev-packages]\npytest = {version = \"==8.2.2\"}\n\n[requires]\npython_version = \"3.11\"\n", &a);
	assert_string_equal(reqset_get(&a, "pandas"), "==2.0.3");
	assert_string_equal(reqset_get(&a, "requests"), "");
	assert_string_equal(reqset_get(&a, "pytest"), "==8.2.2");
	assert_string_equal(reqset_get(&a, "python"), "3.11");
	reqset_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_requirements_txt),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_pyproject),
		cmocka_unit_test(test_locks),
		cmocka_unit_test(test_conda),
		cmocka_unit_test(test_dockerfile),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_lines_and_exact),
		cmocka_unit_test(test_pip_compile_via),
		cmocka_unit_test(test_lock_graphs),
		cmocka_unit_test(test_interpreter),
	};

	return cmocka_run_group_tests_name("reqparse", tests, NULL, NULL);
}
