/* SPDX-License-Identifier: Apache-2.0 */
/* Shared set-up of the network fuzz targets. */
#include "fuzz_server.h"

#include "satellite/satellite.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static sat_framework *server;
static struct sockaddr_in server_addr;

void fuzz_server_start(void)
{
    char err[256], addr[80];
    sat_config *cfg;
    char *colon;

    if (server != NULL)
        return;
    cfg = sat_config_new();
    if (cfg == NULL || sat_config_set(cfg, "push.listen", "127.0.0.1:0", SAT_CFG_SRC_CMDLINE, NULL) ||
        sat_config_set(cfg, "push.workers", "1", SAT_CFG_SRC_CMDLINE, NULL) ||
        sat_config_set(cfg, "push.max_header_bytes", "4096", SAT_CFG_SRC_CMDLINE, NULL) ||
        sat_config_set(cfg, "push.max_body_bytes", "65536", SAT_CFG_SRC_CMDLINE, NULL) ||
        sat_config_set(cfg, "websocket.max_message_bytes", "65536", SAT_CFG_SRC_CMDLINE, NULL)) {
        fprintf(stderr, "fuzz: configuration failed\n");
        abort();
    }
    server = sat_framework_new(cfg, err, sizeof err);
    sat_config_free(cfg);
    if (server == NULL || sat_framework_start(server, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz: server start failed: %s\n", err);
        abort();
    }
    sat_framework_push_address(server, addr, sizeof addr);
    colon = strrchr(addr, ':');
    *colon = '\0';
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)atoi(colon + 1));
    inet_pton(AF_INET, addr, &server_addr.sin_addr);
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

void fuzz_server_exchange(const void *prefix, size_t prefix_len, const uint8_t *data, size_t len)
{
    struct timeval tv = {0, 20000};
    char buf[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) != 0) {
        close(fd);
        return;
    }
    send_all(fd, prefix, prefix_len);
    send_all(fd, data, len);
    shutdown(fd, SHUT_WR);
    while (recv(fd, buf, sizeof buf, 0) > 0)
        ;
    close(fd);
}
