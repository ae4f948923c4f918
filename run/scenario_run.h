/*
 * run.h - the sub-commands `scenario run` and `scenario compare` (run.c),
 * registered in cmd_scenario.c's table.
 */
#ifndef PIQPLAN_RUN_H
#define PIQPLAN_RUN_H

struct ctx;

int scenario_run(struct ctx *ctx, int argc, char **argv);
int scenario_compare(struct ctx *ctx, int argc, char **argv);

#endif
