/*
 * malloc_classes_test.h - uma's malloc size classes, as malloc_int.h
 * documents them and vm.malloc.zone_sizes publishes them: the one table
 * the tests that walk every class share (a change of classes is one edit
 * here, and the tests then check the library agrees).
 */
#ifndef _UMA_TEST_MALLOC_CLASSES_H_
#define	_UMA_TEST_MALLOC_CLASSES_H_

#include <stddef.h>

#define	NCLASSES	50

static const size_t classes[NCLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448,
	512, 640, 768, 896, 1024, 1088, 1152, 1280, 1536, 1792, 2048, 2304,
	2560, 3072, 3584, 4096, 4224, 4608, 5120, 6144, 7168, 8192, 9216,
	10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768, 40960, 49152,
	57344, 65536,
};

#endif /* !_UMA_TEST_MALLOC_CLASSES_H_ */
