#!/bin/bash
# Tables of docs/optimizers/auto.md and the "Auto from evidence" section of docs/benchmarks.md.
# Usage: .venv/bin/python benchmarks/bbob_merge_auto.py && bash benchmarks/bbob_auto_tables.sh
R=".venv/bin/python benchmarks/bbob.py report benchmarks/results/bbob_auto.csv"
OK="Auto,CMA,BIPOPCMA,XNES,SNES,ANSRUnimodal,ANSR,RandomSearch"
# d = 2: instances 1-2 (Auto reran there after its rule changed), with NOMAD and the nevergrad peers
$R --dims 2 --common --solvers $OK,NOMAD,pycma-IPOP,cmaes-IPOP,ng-NGOpt,ng-CMA --table bench_out/auto_table_d2.md
# d = 5: instances 1-5; then the cells NGOpt ran (instances 1-2); then the cells NOMAD ran
$R --dims 5 --common --solvers $OK,pycma-IPOP,cmaes-IPOP --table bench_out/auto_table_d5.md
$R --dims 5 --common --solvers $OK,pycma-IPOP,cmaes-IPOP,ng-NGOpt,ng-CMA --table bench_out/auto_table_d5_ng.md
$R --dims 5 --common --solvers Auto,CMA,NOMAD,pycma-IPOP --table bench_out/auto_table_d5_nomad.md
# d = 10: instances 1-2; then the cells NGOpt ran (instance 1, the first functions)
$R --dims 10 --common --solvers $OK,pycma-IPOP,cmaes-IPOP --table bench_out/auto_table_d10.md
$R --dims 10 --common --solvers Auto,CMA,SNES,pycma-IPOP,ng-NGOpt --table bench_out/auto_table_d10_ng.md
# d = 20: instance 1
$R --dims 20 --common --solvers $OK,pycma-IPOP,cmaes-IPOP --table bench_out/auto_table_d20.md
