// Attack: a raw packet socket to sniff or forge traffic. Denied by seccomp and by the missing capability.
// @expect ok
// @stdout BLOCKED
#include <stdio.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <arpa/inet.h>
int main(void) {
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    int fd6 = socket(AF_INET6, SOCK_DGRAM, 0);
    puts(fd < 0 && fd6 < 0 ? "BLOCKED" : "OPENED");
    return 0;
}
