/*
 * layer_link.c - an empty program. meson.build links each layer's library
 * whole into it with only the layers that layer may use, so a call into a
 * layer above (or a sibling it may not use) is an undefined symbol and the
 * build fails: the link-time half of scripts/layers.
 */
int main(void)
{
	return 0;
}
