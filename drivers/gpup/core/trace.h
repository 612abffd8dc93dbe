/* SPDX-License-Identifier: GPL-2.0-only */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM gpup_mig

#if !defined(_GPUP_MIG_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _GPUP_MIG_TRACE_H_

#include <linux/tracepoint.h>

/* An arc of the state machine, with the time it took, quiesce included */
TRACE_EVENT(gpup_mig_state,
	TP_PROTO(const char *dev, u32 from, u32 to, int ret, u64 ns),
	TP_ARGS(dev, from, to, ret, ns),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u32, from)
		__field(u32, to)
		__field(int, ret)
		__field(u64, ns)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->from = from;
		__entry->to = to;
		__entry->ret = ret;
		__entry->ns = ns;
	),
	TP_printk("%s %u -> %u ret=%d ns=%llu", __get_str(dev), __entry->from,
		  __entry->to, __entry->ret, __entry->ns)
);

/*
 * A stream's milestones after its rounds: the source starts its mutable
 * state ("mutable", its size) and ends ("end"); the target takes the end
 * ("resumed").  @records and @bytes: of the stream so far.
 */
TRACE_EVENT(gpup_mig_stream,
	TP_PROTO(const char *dev, const char *what, u64 records, u64 bytes),
	TP_ARGS(dev, what, records, bytes),
	TP_STRUCT__entry(
		__string(dev, dev)
		__string(what, what)
		__field(u64, records)
		__field(u64, bytes)
	),
	TP_fast_assign(
		__assign_str(dev);
		__assign_str(what);
		__entry->records = records;
		__entry->bytes = bytes;
	),
	TP_printk("%s %s records=%llu bytes=%llu", __get_str(dev), __get_str(what),
		  __entry->records, __entry->bytes)
);

TRACE_EVENT(gpup_mig_round,
	TP_PROTO(const char *dev, u32 round, unsigned long pages, u64 bytes),
	TP_ARGS(dev, round, pages, bytes),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u32, round)
		__field(unsigned long, pages)
		__field(u64, bytes)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->round = round;
		__entry->pages = pages;
		__entry->bytes = bytes;
	),
	TP_printk("%s round=%u pages=%lu bytes_so_far=%llu", __get_str(dev),
		  __entry->round, __entry->pages, __entry->bytes)
);

#endif /* _GPUP_MIG_TRACE_H_ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
