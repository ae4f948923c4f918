/*
 * json.h - the one JSON printer. cJSON writes strings byte for byte, so a
 * stored name holding bytes that are not UTF-8 would make invalid JSON;
 * everything piqplan prints as JSON goes through here and comes out valid
 * UTF-8 (each ill-formed subsequence becomes U+FFFD, see utf8.h).
 */
#ifndef PIQPLAN_JSON_H
#define PIQPLAN_JSON_H

#include <cjson/cJSON.h>

/* cJSON_Print(v), made valid UTF-8. A new string, or NULL when out of memory. */
char *json_print(const cJSON *v);

/* Print v (as json_print) to stdout followed by a newline, then free v. Dies when out of memory. */
void print_json(cJSON *v);

#endif
