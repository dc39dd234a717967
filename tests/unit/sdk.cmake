ferrite_unit_test(sdk_pqsort_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/sdk_pqsort_test.cc LIBS ferrite_sdk)
