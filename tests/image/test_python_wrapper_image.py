"""What the images serving with the python wrapper (python, R through rpy2, Spark) promise."""

from __future__ import annotations

FAMILIES = {"python", "r", "spark"}


def test_the_wrapper_runs_in_the_apps_virtualenv(host):
    assert host.check_output("python -c 'import sys; print(sys.prefix)'") == "/opt/app-root/venv"


def test_wrapper_is_installed_from_the_repository_with_generated_stubs(host, cell):
    assert host.run("python -c 'import seldon_serve.proto.prediction_pb2, seldon_serve.grpc_server'").rc == 0
    assert host.run("seldon-core-microservice --help").rc == 0
    for name, pin in cell.family.packages.items():
        assert host.check_output(f"pip show {name} | sed -n 's/^Version: //p'") == pin, name


def test_the_wrappers_pins_are_pips_constraints_and_seldon_core_is_ours(host, cell, image_config):
    """A model's requirements install under the wrapper's pins, and its `import seldon_core`
    finds the compatibility package of the Seldon release versions.yaml names."""
    from harness import ROOT, config

    env = dict(item.split("=", 1) for item in image_config["Env"])
    constraints = set(host.file(env["PIP_CONSTRAINT"]).content_string.split())
    assert {f"{name}=={pin}" for name, pin in cell.family.packages.items()} <= constraints
    assert host.run("python -m seldon_serve.check --wrapper-only").rc == 0
    release = config.load(ROOT / "versions.yaml").tools["seldon-core"]
    assert host.check_output("python -c 'import seldon_core; print(seldon_core.__version__)'") == release


def test_the_virtualenv_is_group_writable_for_arbitrary_uids(host):
    directory = host.file("/opt/app-root/venv/lib")
    assert directory.gid == 0 and directory.mode & 0o070 == 0o070


def test_pip_and_python_trust_the_system_store(host, image_config):
    env = dict(item.split("=", 1) for item in image_config["Env"])
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    assert env["PIP_CERT"] == bundle and env["SSL_CERT_FILE"] == bundle
    assert host.file(bundle).size > 0


# The packages of wrappers/ each family's image installs.
WRAPPER_PACKAGES = {
    "python": ("python/seldon_serve", "python/seldon_core"),
    "r": ("python/seldon_serve", "python/seldon_core", "r/seldon_serve_r"),
    "spark": ("python/seldon_serve", "python/seldon_core", "spark/seldon_serve_spark"),
}


def test_image_wrapper_matches_the_repository(host, cell):
    """A stale image (wrapper changed, image not rebuilt) fails here, not in the contract suite."""
    from harness import ROOT

    for package in WRAPPER_PACKAGES[cell.family.name]:
        name = package.rpartition("/")[2]
        site = host.check_output(f"python -c 'import {name}, os; print(os.path.dirname({name}.__file__))'")
        folder = ROOT / "wrappers" / package
        for source in sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".R") and "_pb2" not in p.stem):
            relative = source.relative_to(folder)
            assert host.file(f"{site}/{relative}").content_string == source.read_text(), (
                f"rebuild: {package}/{relative}"
            )


def test_the_grpc_front_is_installed(host):
    front = host.file("/usr/local/bin/seldon-grpc-front")
    assert front.is_file and front.mode & 0o111
    assert "-backend" in host.run("seldon-grpc-front -h").stderr


def test_the_grpc_front_says_why_it_cannot_listen(host):
    """The wrapper's --host reaches the front's -listen: a name resolves through /etc/hosts in the
    static binary, and one that does not is named with the resolver's reason, not as malformed."""
    unresolved = host.run("timeout 5 seldon-grpc-front -listen no-such-host.invalid:5999 -backend /tmp/none.sock")
    assert unresolved.rc == 1, unresolved.stderr
    assert "cannot listen on no-such-host.invalid:5999: failed to lookup address" in unresolved.stderr
    malformed = host.run("timeout 5 seldon-grpc-front -listen 5999 -backend /tmp/none.sock")
    assert "cannot listen on 5999: invalid socket address" in malformed.stderr
    resolved = host.run("timeout 1 seldon-grpc-front -listen localhost:0 -backend /tmp/none.sock")
    assert resolved.rc == 124, resolved.stderr  # still serving when timeout stopped it


def test_seldons_thread_settings_are_named_in_a_warning_at_start(host):
    """GUNICORN_THREADS and the like change nothing here; a Seldon user who set them reads so
    first thing (before the model is looked for, so none is needed)."""
    started = host.run(
        "cd /tmp && GUNICORN_THREADS=4 timeout 20 seldon-core-microservice NoSuchModel --grpc-workers 2 --workers 1"
    )
    assert started.rc != 0, started.stderr  # no model
    assert "WARNING" in started.stderr and "GUNICORN_THREADS=4, --grpc-workers 2: no effect here" in started.stderr
    assert "(GUNICORN_WORKERS or --workers, 1 now)" in started.stderr
