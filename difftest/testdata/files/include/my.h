/* A user's own header for the include cases: macros, a struct, and a
 * nested header behind an include guard. */
#ifndef MY_H
#define MY_H
#include "sub.h"
#include "sub.h"

struct foo {
	int a;
	long b;
};

#define MYC 7
#define MYSUM (MYC + SUBC)
#endif
