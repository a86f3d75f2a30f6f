// Attack: one endless line with no newline, so line-based readers never see an end.
// @expect output_limit
#include <stdio.h>
int main(void) { for (;;) fputs("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", stdout); }
