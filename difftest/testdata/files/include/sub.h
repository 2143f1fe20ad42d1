#ifndef SUB_H
#define SUB_H
typedef unsigned short sub_t;
struct sub {
	sub_t x[3];
	struct foo *next;
};
#define SUBC 5
#endif
