/*
 * json.c - see json.h.
 */
#include "lib/json.h"
#include "lib/utf8.h"
#include "lib/util.h"

#include <stdio.h>
#include <stdlib.h>

char *json_print(const cJSON *v)
{
	char *raw = cJSON_Print(v);
	if (!raw)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_utf8(&sb, raw);
	free(raw);
	return strbuf_detach(&sb);
}

void print_json(cJSON *v)
{
	char *s = json_print(v);
	if (!s)
		die("out of memory printing JSON");
	puts(s);
	free(s);
	cJSON_Delete(v);
}
