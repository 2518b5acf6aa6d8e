package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/tickflow/tickflow/core"
)

var errTODO = errors.New("sqlstore: not implemented yet")

func (s *Store) BeginTick(context.Context, core.BeginTickParams) (core.TickStart, error) { return core.TickStart{}, errTODO }
func (s *Store) EndTick(context.Context, core.EndTickParams) error                       { return errTODO }
func (s *Store) SyncSchedules(context.Context, core.SyncSchedulesParams) (core.SyncResult, error) {
	return core.SyncResult{}, errTODO
}
func (s *Store) ClaimDue(context.Context, core.ClaimDueParams) (core.ClaimDueResult, error) {
	return core.ClaimDueResult{}, errTODO
}
func (s *Store) ClaimRuns(context.Context, core.ClaimRunsParams) (core.ClaimRunsResult, error) {
	return core.ClaimRunsResult{}, errTODO
}
func (s *Store) FinishRuns(context.Context, core.FinishRunsParams) (int, error) { return 0, errTODO }
func (s *Store) InsertRun(context.Context, core.InsertRunParams) (core.Run, bool, error) {
	return core.Run{}, false, errTODO
}
func (s *Store) GetRun(context.Context, int64) (core.Run, error)                      { return core.Run{}, errTODO }
func (s *Store) ListRuns(context.Context, core.ListRunsParams) ([]core.Run, error)    { return nil, errTODO }
func (s *Store) CancelRun(context.Context, core.RunActionParams) (core.Run, error)    { return core.Run{}, errTODO }
func (s *Store) RetryRun(context.Context, core.RunActionParams) (core.Run, error)     { return core.Run{}, errTODO }
func (s *Store) ListSchedules(context.Context) ([]core.ScheduleRecord, error)         { return nil, errTODO }
func (s *Store) GetSchedule(context.Context, string) (core.ScheduleRecord, error)     { return core.ScheduleRecord{}, errTODO }
func (s *Store) SetSchedulePaused(context.Context, string, bool) (core.ScheduleRecord, error) {
	return core.ScheduleRecord{}, errTODO
}
func (s *Store) ListTicks(context.Context, int) ([]core.TickRecord, error)   { return nil, errTODO }
func (s *Store) Stats(context.Context, time.Time) (core.Stats, error)         { return core.Stats{}, errTODO }
func (s *Store) AcquireLock(context.Context, core.LockParams) (bool, error)   { return false, errTODO }
func (s *Store) ReleaseLock(context.Context, core.LockParams) error           { return errTODO }
