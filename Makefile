.PHONY: setup demo test lint bench

setup:
	./scripts/setup.sh

demo: setup
	.venv/bin/earwitness demo --out demo-output

test: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks
	.venv/bin/mypy
	.venv/bin/pytest -q

bench: setup
	.venv/bin/python benchmarks/bench_ingest.py
	.venv/bin/python benchmarks/bench_decode.py
	.venv/bin/python benchmarks/bench_match_speed.py --hours 10 100 1000
	.venv/bin/python benchmarks/bench_forensics.py --minutes 10
	.venv/bin/python benchmarks/bench_events.py
	.venv/bin/python benchmarks/bench_asr.py
	.venv/bin/python benchmarks/bench_speakers.py
	.venv/bin/python benchmarks/bench_report.py
