/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TCP flag sets as the tests' segment tables write them. */
#ifndef RSTWATCH_TEST_SEGFLAGS_H
#define RSTWATCH_TEST_SEGFLAGS_H

#include "decode.h"

#define R   TCPF_RST
#define RA  (TCPF_RST | TCPF_ACK)
#define S_  TCPF_SYN
#define SA  (TCPF_SYN | TCPF_ACK)
#define A   TCPF_ACK
#define PA  (TCPF_PSH | TCPF_ACK)
#define FA  (TCPF_FIN | TCPF_ACK)

#endif
