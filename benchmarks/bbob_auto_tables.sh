#!/bin/bash
# Tables of docs/optimizers/auto.md and the "Auto from evidence" section of docs/benchmarks.md,
# from the merged CSV benchmarks/results/bbob_auto.csv (see benchmarks/bbob_merge.py).
# Usage: bash benchmarks/bbob_auto_tables.sh   (writes bench_out/auto_table_*.md)
R=".venv/bin/python benchmarks/bbob.py report benchmarks/results/bbob_auto.csv"
OK="Auto,BOBYQA,CMA,BIPOPCMA,XNES,SNES,ANSRUnimodal,ANSR,RandomSearch"
mkdir -p bench_out
# d = 2 and 5: instances 1-5, every optimkit optimizer and the pycma/cmaes peers
$R --dims 2 --common --solvers $OK,pycma-IPOP,cmaes-IPOP --table bench_out/auto_table_d2.md
$R --dims 5 --common --solvers $OK,pycma-IPOP,cmaes-IPOP --table bench_out/auto_table_d5.md
# d = 2 and 5: the cells nevergrad and NOMAD ran (instances 1-2)
$R --dims 2 --common --solvers Auto,CMA,NOMAD,pycma-IPOP,cmaes-IPOP,ng-NGOpt,ng-CMA --table bench_out/auto_table_d2_ng.md
$R --dims 5 --common --solvers Auto,CMA,pycma-IPOP,cmaes-IPOP,ng-NGOpt,ng-CMA --table bench_out/auto_table_d5_ng.md
$R --dims 5 --common --solvers Auto,CMA,NOMAD,pycma-IPOP --table bench_out/auto_table_d5_nomad.md
# d = 10 and 20: instances 1-5 against the pycma/cmaes peers; every optimkit optimizer on the cells they ran
$R --dims 10 --common --solvers Auto,CMA,BIPOPCMA,pycma-IPOP,cmaes-IPOP --table bench_out/auto_table_d10.md
$R --dims 20 --common --solvers Auto,CMA,BIPOPCMA,pycma-IPOP,cmaes-IPOP --table bench_out/auto_table_d20.md
$R --dims 10 --common --solvers $OK --table bench_out/auto_table_d10_ok.md
$R --dims 20 --common --solvers $OK --table bench_out/auto_table_d20_ok.md
# d = 10 and 20: the cells NGOpt ran (instance 1)
$R --dims 10 --common --solvers Auto,CMA,pycma-IPOP,cmaes-IPOP,ng-NGOpt --table bench_out/auto_table_d10_ng.md
$R --dims 20 --common --solvers Auto,CMA,pycma-IPOP,cmaes-IPOP,ng-NGOpt --table bench_out/auto_table_d20_ng.md
