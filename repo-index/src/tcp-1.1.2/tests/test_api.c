/* test_api.c: the 1.1.0 additions, tcp_writev and tcp_peer. */
#include "check.h"
#include "wire.h"

void run_api_tests(void);

static struct tcp_conn *connect_one(struct tcp *t, struct client *cl, uint16_t sport)
{
	CHECK(tcp_listen(t, 80) == 0);
	CHECK(client_connect(t, cl, 0, 80, sport, 1000, 1460) == 0);
	struct tcp_conn *c = tcp_accept(t);
	CHECK(c != NULL);
	return c;
}

static void test_api_version(void)
{
	CHECK(TCP_API_VERSION == 0x010100);
}

static void test_peer(void)
{
	struct tcp *t = wire_init();
	struct client cl;
	struct tcp_conn *c = connect_one(t, &cl, 43210);
	uint32_t ip = 0;
	uint16_t port = 0;
	tcp_peer(c, &ip, &port);
	CHECK(ip == CLIENT_IP && port == 43210);
	tcp_peer(c, NULL, &port);
	tcp_peer(c, &ip, NULL);
	wire_done(t);
}

static void test_writev(void)
{
	struct tcp *t = wire_init();
	struct client cl;
	struct seg s;
	struct tcp_conn *c = connect_one(t, &cl, 40000);

	/* A header and a body leave as one segment. */
	uint32_t base = cl.rcv_nxt;
	const char *hdr = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
	struct tcp_iov iov[3] = {{hdr, strlen(hdr)}, {"", 0}, {"hello", 5}};
	CHECK(tcp_writev(c, iov, 3) == (tcp_ssize_t)strlen(hdr) + 5);
	CHECK(wire_pop(&s) && s.len == strlen(hdr) + 5);
	CHECK(memcmp(s.data, hdr, strlen(hdr)) == 0 &&
	      memcmp(s.data + strlen(hdr), "hello", 5) == 0);
	cl.rcv_nxt += (uint32_t)s.len;
	CHECK(!wire_pop(&s));
	CHECK(tcp_writev(c, iov, 0) == 0);
	CHECK(tcp_writev(c, iov + 1, 1) == 0);
	CHECK(tcp_writev(c, iov, -1) == -1);

	/* More than fits: a prefix is taken, then TCP_AGAIN until room is made. */
	static uint8_t big[40000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + 7);
	struct tcp_iov two[2] = {{big, sizeof(big)}, {big, sizeof(big)}};
	size_t space = tcp_send_space(c);
	CHECK(space == TCP_SNDBUF - strlen(hdr) - 5);
	CHECK(tcp_writev(c, two, 2) == (tcp_ssize_t)space);
	CHECK(tcp_send_space(c) == 0);
	CHECK(tcp_writev(c, two, 2) == TCP_AGAIN);
	CHECK(tcp_write(c, big, 1) == TCP_AGAIN);
	/* The stream is header, "hello", big, then the start of big again. */
	size_t got = strlen(hdr) + 5;
	for (int round = 0; round < 20; round++) {
		while (wire_pop(&s)) {
			CHECK(s.seq == cl.rcv_nxt);
			for (size_t i = 0; i < s.len; i++) {
				size_t at = s.seq - base + i;
				uint8_t want;
				if (at < strlen(hdr))
					want = (uint8_t)hdr[at];
				else if (at < strlen(hdr) + 5)
					want = (uint8_t) "hello"[at - strlen(hdr)];
				else
					want = big[(at - strlen(hdr) - 5) % sizeof(big)];
				if (s.data[i] != want) {
					CHECK(s.data[i] == want);
					break;
				}
			}
			cl.rcv_nxt += (uint32_t)s.len;
			got += s.len;
		}
		client_send(t, &cl, (plat_time_t)(round + 1) * 1000000, TH_ACK, NULL, 0);
	}
	CHECK(got == strlen(hdr) + 5 + space);
	CHECK(tcp_send_space(c) == TCP_SNDBUF);

	/* After a reset: -1. */
	client_send(t, &cl, 30000000, TH_RST, NULL, 0);
	CHECK(tcp_writev(c, iov, 3) == -1);
	tcp_close(c);
	CHECK(tcp_conn_count(t) == 0);
	wire_done(t);
}

void run_api_tests(void)
{
	CHECK_TEST(test_api_version);
	CHECK_TEST(test_peer);
	CHECK_TEST(test_writev);
}
