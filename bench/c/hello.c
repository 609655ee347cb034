/* hello.c — bench/hello.zx in C: start-up cost of a process that prints one line. */
#include <stdio.h>

int main(void)
{
    puts("hello, world");
    return 0;
}
