# mbuf benchmarks (include from bench/CMakeLists.txt after the DPDK probe):
#   mbuf_bench    m_getcl+m_freem pairs and a 2-CPU hand-off on uma
#   dpdk_pktmbuf  the same on rte_pktmbuf (only if DPDK is found)
uma_add_bench(mbuf_bench)
target_link_libraries(mbuf_bench PRIVATE uma_static)

if(DPDK_FOUND)
  uma_add_bench(dpdk_pktmbuf)
  target_include_directories(dpdk_pktmbuf PRIVATE ${DPDK_INCLUDE_DIRS})
  target_compile_options(dpdk_pktmbuf PRIVATE ${DPDK_CFLAGS_OTHER})
  target_link_libraries(dpdk_pktmbuf PRIVATE ${DPDK_LINK_LIBRARIES}
    ${DPDK_LDFLAGS_OTHER})
endif()
