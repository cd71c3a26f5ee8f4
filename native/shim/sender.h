// The sender thread: encodes chunks as Batch frames and ships them to a Sink (sink.h): the
// monitor, with reconnection and back-off, or a per-rank file. It owns every blocking call, so
// the application never waits on the monitor.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/wire.h"

namespace sitempi::shim {

void sender_start(const wire::Hello& hello);
void sender_stop(uint32_t timeout_ms);    // flushes, sends Bye, joins (or gives up)
void sender_announce(wire::CommDef def);  // queued ahead of the batches that use it
void sender_forget(uint32_t local_id);    // the communicator was freed
// The site of every world rank that site-aware collectives use from `epoch` on (the static map is
// epoch 0), for the monitor's expansion of their records; sent once per epoch, before the batches.
void sender_sites_in_force(uint64_t epoch, const std::vector<uint32_t>& site_of);

// The newest placement received from the monitor (a one-slot mailbox).
uint64_t mailbox_epoch();
bool mailbox_get(wire::Placement& out);

}  // namespace sitempi::shim
