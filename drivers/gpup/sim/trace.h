/* SPDX-License-Identifier: GPL-2.0-only */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM gpup_sim

#if !defined(_GPUP_SIM_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _GPUP_SIM_TRACE_H_

#include <linux/tracepoint.h>

TRACE_EVENT(gpup_sim_cmd,
	TP_PROTO(const char *vf, u32 ring_off, u32 opcode, u64 dst, u64 src, u64 len,
		 u32 error),
	TP_ARGS(vf, ring_off, opcode, dst, src, len, error),
	TP_STRUCT__entry(
		__string(vf, vf)
		__field(u32, ring_off)
		__field(u32, opcode)
		__field(u64, dst)
		__field(u64, src)
		__field(u64, len)
		__field(u32, error)
	),
	TP_fast_assign(
		__assign_str(vf);
		__entry->ring_off = ring_off;
		__entry->opcode = opcode;
		__entry->dst = dst;
		__entry->src = src;
		__entry->len = len;
		__entry->error = error;
	),
	TP_printk("%s ring_off=%#x op=%u dst=%#llx src=%#llx len=%#llx error=%u",
		  __get_str(vf), __entry->ring_off, __entry->opcode, __entry->dst,
		  __entry->src, __entry->len, __entry->error)
);

TRACE_EVENT(gpup_sim_irq,
	TP_PROTO(const char *vf, int index, u32 int_status),
	TP_ARGS(vf, index, int_status),
	TP_STRUCT__entry(
		__string(vf, vf)
		__field(int, index)
		__field(u32, int_status)
	),
	TP_fast_assign(
		__assign_str(vf);
		__entry->index = index;
		__entry->int_status = int_status;
	),
	TP_printk("%s irq_index=%d int_status=%#x", __get_str(vf),
		  __entry->index, __entry->int_status)
);

TRACE_EVENT(gpup_sim_reset,
	TP_PROTO(const char *vf, unsigned long pages_freed),
	TP_ARGS(vf, pages_freed),
	TP_STRUCT__entry(
		__string(vf, vf)
		__field(unsigned long, pages_freed)
	),
	TP_fast_assign(
		__assign_str(vf);
		__entry->pages_freed = pages_freed;
	),
	TP_printk("%s pages_freed=%lu", __get_str(vf), __entry->pages_freed)
);

/* The user's DMA dirty logging: started, stopped (reports are empty) */
TRACE_EVENT(gpup_sim_dma_log,
	TP_PROTO(const char *vf, const char *what, u32 ranges, int ret),
	TP_ARGS(vf, what, ranges, ret),
	TP_STRUCT__entry(
		__string(vf, vf)
		__string(what, what)
		__field(u32, ranges)
		__field(int, ret)
	),
	TP_fast_assign(
		__assign_str(vf);
		__assign_str(what);
		__entry->ranges = ranges;
		__entry->ret = ret;
	),
	TP_printk("%s %s ranges=%u ret=%d", __get_str(vf), __get_str(what),
		  __entry->ranges, __entry->ret)
);

#endif /* _GPUP_SIM_TRACE_H_ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
