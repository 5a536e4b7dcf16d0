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
	assert_null(reqset_get(&s, "python"));
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
	};

	return cmocka_run_group_tests_name("reqparse", tests, NULL, NULL);
}
