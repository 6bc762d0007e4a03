/*
 * fleet.h - what fleet_workload holds, for the tests that read it.
 */
#ifndef _UMA_TEST_FLEET_H_
#define	_UMA_TEST_FLEET_H_

#define	FLEET_BIG_SIZE	200	/* bytes of a fleet_big item */
#define	FLEET_AAA_ITEMS	3	/* items fleet_aaa holds */
#define	FLEET_BUF_SIZE	256	/* bytes of a fleet_buf buffer */

#endif
