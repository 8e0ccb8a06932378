/* SPDX-License-Identifier: Apache-2.0 */
/* The SATELLITE-MIB layout under satObjects: which registry type and which
 * attributes fill each scalar group and table column. OIDs here must match
 * snmp-mib/SATELLITE-MIB.txt; serving and ordering live in snmp_index.c. */
#include "snmp.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Registry names of MIB enumerations, in MIB order from value 1. */
static const char *const truth_names[] = {"true", "false", NULL};
static const char *const idle_reload[] = {"idle", "reload", NULL};
static const char *const idle_reset[] = {"idle", "reset", NULL};
static const char *const transport_names[] = {"undefined", "websocket", "sse",     "long-polling",
                                              "streaming", "jsonp",     "polling", NULL};
static const char *const resource_states[] = {"other", "suspended", "resumed", "cancelled", NULL};
static const char *const resource_actions[] = {"none", "resume", "close", NULL};
static const char *const param_sources[] = {"default", "file", "command-line", "runtime", NULL};
static const char *const member_states[] = {"other", "joining", "up", "leaving", "down", NULL};

#define COL(sub, n, syn, a)                                                                        \
    {                                                                                              \
        sub, n, syn, true, a, NULL, SNMP_WRITE_NONE                                                \
    }
#define ENUMCOL(sub, n, a, names)                                                                  \
    {                                                                                              \
        sub, n, SNMP_SYN_ENUM, true, a, names, SNMP_WRITE_NONE                                     \
    }
#define INDEXCOL(n)                                                                                \
    {                                                                                              \
        1, n, SNMP_SYN_UNSIGNED, false, NULL, NULL, SNMP_WRITE_NONE                                \
    }

static const snmp_column async_cols[] = {
    COL(1, "satAsyncServerName", SNMP_SYN_STRING, "server|server-name"),
    COL(2, "satAsyncServerVersion", SNMP_SYN_STRING, "version|server-version"),
    COL(3, "satAsyncTransports", SNMP_SYN_STRING, "transports"),
    COL(4, "satAsyncWebSocketEnabled", SNMP_SYN_TRUTH, "websocket-enabled|websocket"),
};

static const snmp_column framework_cols[] = {
    COL(1, "satFrameworkConfigFile", SNMP_SYN_STRING, "config-origin|config-file"),
    COL(2, "satFrameworkGeneration", SNMP_SYN_UNSIGNED, "generation"),
    COL(3, "satFrameworkLastReloadResult", SNMP_SYN_STRING, "last-reload-result"),
    COL(4, "satFrameworkLastReloadTime", SNMP_SYN_DATETIME, "last-reload|last-reload-time"),
    {5, "satFrameworkReload", SNMP_SYN_ENUM, true, NULL, idle_reload, SNMP_WRITE_RELOAD},
    COL(6, "satFrameworkStartTime", SNMP_SYN_DATETIME, "start-time|started-at"),
};

static const snmp_column factory_cols[] = {
    COL(1, "satFactoryBroadcasters", SNMP_SYN_GAUGE, "broadcasters|broadcaster-count"),
    COL(2, "satFactoryResources", SNMP_SYN_GAUGE, "resources|resource-count"),
    COL(3, "satFactoryWebSocketProcessors", SNMP_SYN_GAUGE,
        "websocket-processors|websocket-processor-count"),
};

static const snmp_column stats_cols[] = {
    {1, "satStatsCapturing", SNMP_SYN_TRUTH, true, "capturing", truth_names, SNMP_WRITE_CAPTURING},
    {2, "satStatsReset", SNMP_SYN_ENUM, true, NULL, idle_reset, SNMP_WRITE_STATS_RESET},
    COL(3, "satStatsConnectionsCurrent", SNMP_SYN_GAUGE, "active|connections"),
    COL(4, "satStatsConnectionsTotal", SNMP_SYN_COUNTER64, "total|connections-total"),
    COL(5, "satStatsMessages", SNMP_SYN_COUNTER64, "messages-broadcast|messages"),
    COL(6, "satStatsCleanDisconnects", SNMP_SYN_COUNTER64, "clean-disconnects"),
    COL(7, "satStatsDirtyDisconnects", SNMP_SYN_COUNTER64, "dirty-disconnects"),
    COL(8, "satStatsCloses", SNMP_SYN_COUNTER64, "closes|close-count"),
};

/* Rows per transport: "%s" is the transport's wire name. */
static const snmp_column transport_cols[] = {
    INDEXCOL("satStatsTransport"),
    COL(2, "satStatsTransportConnectionsCurrent", SNMP_SYN_GAUGE, "active-%s"),
    COL(3, "satStatsTransportConnectionsTotal", SNMP_SYN_COUNTER64, "total-%s"),
};

static const snmp_column websocket_cols[] = {
    COL(1, "satWsBufferSize", SNMP_SYN_UNSIGNED, "buffer-size|buffer-bytes"),
    COL(2, "satWsMaxMessageSize", SNMP_SYN_UNSIGNED, "max-message-size|max-message-bytes"),
    COL(3, "satWsIdleTime", SNMP_SYN_UNSIGNED, "idle-timeout|idle-time"),
    COL(4, "satWsClosingTime", SNMP_SYN_UNSIGNED, "close-timeout|closing-time"),
    COL(5, "satWsHandlers", SNMP_SYN_STRING, "handlers"),
};

static const snmp_column broadcaster_cols[] = {
    INDEXCOL("satBroadcasterIndex"),
    COL(2, "satBroadcasterName", SNMP_SYN_STRING, "@id"),
    COL(3, "satBroadcasterScope", SNMP_SYN_STRING, "scope"),
    COL(4, "satBroadcasterLifecycle", SNMP_SYN_STRING, "lifecycle-policy|lifecycle"),
    COL(5, "satBroadcasterDeliveryPolicy", SNMP_SYN_STRING, "delivery-policy"),
    COL(6, "satBroadcasterResources", SNMP_SYN_GAUGE, "resource-count"),
    COL(7, "satBroadcasterListeners", SNMP_SYN_GAUGE, "listeners|listener-count"),
    COL(8, "satBroadcasterFilters", SNMP_SYN_GAUGE, "filters|filter-count"),
    COL(9, "satBroadcasterQueued", SNMP_SYN_GAUGE, "messages-queued|queued"),
    COL(10, "satBroadcasterMessages", SNMP_SYN_COUNTER64, "messages"),
    {11, "satBroadcasterIsDestroyed", SNMP_SYN_TRUTH, true, "destroyed", truth_names,
     SNMP_WRITE_NONE},
};

static const snmp_column cache_cols[] = {
    INDEXCOL("satCacheIndex"),
    COL(2, "satCacheBroadcaster", SNMP_SYN_STRING, "@id"),
    COL(3, "satCacheActiveClients", SNMP_SYN_GAUGE, "active-clients"),
    COL(4, "satCacheMessages", SNMP_SYN_GAUGE, "cached-messages"),
    COL(5, "satCacheBytes", SNMP_SYN_GAUGE, "bytes"),
    COL(6, "satCacheEvictions", SNMP_SYN_COUNTER64, "evictions"),
    COL(7, "satCacheMaxMessages", SNMP_SYN_UNSIGNED, "max-messages"),
    COL(8, "satCacheMaxAge", SNMP_SYN_UNSIGNED, "max-age"),
};

static const snmp_column interceptor_cols[] = {
    INDEXCOL("satInterceptorIndex"),
    COL(2, "satInterceptorName", SNMP_SYN_STRING, "@id"),
    COL(3, "satInterceptorPriority", SNMP_SYN_INTEGER, "priority"),
    {4, "satInterceptorEnabled", SNMP_SYN_TRUTH, true, "enabled", truth_names,
     SNMP_WRITE_INTERCEPTOR},
    COL(5, "satInterceptorInvocations", SNMP_SYN_COUNTER64, "invocations"),
};

static const snmp_column resource_cols[] = {
    INDEXCOL("satResourceIndex"),
    COL(2, "satResourceUuid", SNMP_SYN_STRING, "uuid|@id"),
    ENUMCOL(3, "satResourceTransport", "transport", transport_names),
    ENUMCOL(4, "satResourceState", "state", resource_states),
    COL(5, "satResourceBroadcaster", SNMP_SYN_STRING, "broadcaster"),
    COL(6, "satResourceRemoteAddress", SNMP_SYN_STRING, "remote-address"),
    COL(7, "satResourceUserAgent", SNMP_SYN_STRING, "user-agent"),
    COL(8, "satResourceConnectedSince", SNMP_SYN_DATETIME, "connected-since"),
    COL(9, "satResourceMessagesSent", SNMP_SYN_COUNTER64, "messages-sent"),
    COL(10, "satResourceBytesSent", SNMP_SYN_COUNTER64, "bytes-sent"),
    COL(11, "satResourceQueueDepth", SNMP_SYN_GAUGE, "queue-depth"),
    {12, "satResourceAction", SNMP_SYN_ENUM, true, NULL, resource_actions, SNMP_WRITE_RESOURCE},
};

/* One row per object of the registry type "init-param" (one per
 * configuration key). The registry already shows secret values as "***". */
static const snmp_column init_param_cols[] = {
    INDEXCOL("satInitParamIndex"),
    COL(2, "satInitParamName", SNMP_SYN_STRING, "name|@id"),
    {3, "satInitParamValue", SNMP_SYN_STRING, true, "value", NULL, SNMP_WRITE_INIT_PARAM},
    ENUMCOL(4, "satInitParamSource", "source", param_sources),
};

static const snmp_column member_cols[] = {
    INDEXCOL("satMemberIndex"),
    COL(2, "satMemberNodeId", SNMP_SYN_STRING, "@id"),
    COL(3, "satMemberAddress", SNMP_SYN_STRING, "address"),
    ENUMCOL(4, "satMemberState", "state", member_states),
    COL(5, "satMemberJoinedAt", SNMP_SYN_DATETIME, "joined-at"),
    COL(6, "satMemberLastHeartbeat", SNMP_SYN_DATETIME, "last-heartbeat"),
};

#define SCALARS(n, sub, t, cols)                                                                   \
    {                                                                                              \
        n, {sub}, 1, false, SNMP_SRC_SINGLETON, t, cols, COUNT(cols)                               \
    }
#define TABLE(n, sub, src, t, cols)                                                                \
    {                                                                                              \
        n, {sub}, 1, true, src, t, cols, COUNT(cols)                                               \
    }

/* Ascending OID order: satStatistics' scalars (4.1 to 4.8) come before its
 * transport table (4.9). */
const snmp_group snmp_groups[] = {
    SCALARS("satAsyncSupport", 1, "async-support", async_cols),
    SCALARS("satFramework", 2, "framework", framework_cols),
    SCALARS("satFactory", 3, "factory", factory_cols),
    SCALARS("satStatistics", 4, "statistics", stats_cols),
    {"satStatsTransportTable",
     {4, 9},
     2,
     true,
     SNMP_SRC_TRANSPORTS,
     "statistics",
     transport_cols,
     COUNT(transport_cols)},
    SCALARS("satWebSocket", 5, "websocket", websocket_cols),
    TABLE("satBroadcasterTable", 6, SNMP_SRC_OBJECTS, "broadcaster", broadcaster_cols),
    TABLE("satCacheTable", 7, SNMP_SRC_OBJECTS, "broadcaster-cache", cache_cols),
    TABLE("satInterceptorTable", 8, SNMP_SRC_OBJECTS, "interceptor", interceptor_cols),
    TABLE("satResourceTable", 9, SNMP_SRC_OBJECTS, "resource", resource_cols),
    TABLE("satInitParamTable", 10, SNMP_SRC_OBJECTS, "init-param", init_param_cols),
    TABLE("satMemberTable", 11, SNMP_SRC_OBJECTS, "cluster-member", member_cols),
};

const size_t snmp_group_count = COUNT(snmp_groups);
