/*
 * fuzz_config.c - libFuzzer target for a Hugging Face config.json as
 * `piqplan model import` reads it: the import path's limits
 * (model_config_check, schema/catalog.c: size, layers, list lengths), then
 * model_arch_parse() (planner/model.c). On success every function that
 * derives figures from the architecture runs on it too, in every precision,
 * so UBSan catches integer overflow and bad shifts in the arithmetic: a
 * config the import accepts must not make the arithmetic undefined.
 */
#include "lib/util.h"
#include "planner/model.h"
#include "schema/catalog.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum precision precs[] = { PREC_NATIVE, PREC_BF16, PREC_FP8, PREC_FP4 };
	struct model_arch m;
	struct model_params p;
	struct model_weights w;
	char err[256];

	err[0] = '\0';
	if (model_config_check((const char *)data, size, "fuzz"))
		return 0;	/* refused with a message, as model import does */
	if (model_arch_parse((const char *)data, size, &m, err, sizeof(err))) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	model_params_count(&m, &p);
	if (p.total < 0 || p.active < 0 || p.active > p.total)
		abort();
	for (size_t i = 0; i < sizeof(precs) / sizeof(precs[0]); i++) {
		model_weights_bytes(&m, precs[i], &w);
		if (!(w.total >= 0) || !isfinite(w.total))
			abort();
	}
	for (int kv = 1; kv <= 2; kv++) {
		if (model_kv_bytes_per_token(&m, kv) < 0)
			abort();
		double s = model_kv_bytes_per_sequence(&m, kv, m.max_context_tokens);
		if (!(s >= 0) || !isfinite(s))
			abort();
	}
	return 0;
}
