enum color { RED = 3, GREEN };
struct painted {
	enum color c;
	char name[8];
};
