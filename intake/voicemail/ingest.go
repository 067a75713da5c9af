package voicemail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/model"
)

// ContentHash is a voicemail's content hash in the store: one per
// recording, not per audio, so that two silent voicemails of the same
// length stay two items and a change of media format never duplicates one.
func ContentHash(accountSID, recordingSID string) string {
	h := sha256.Sum256([]byte("twilio-recording:" + accountSID + ":" + recordingSID))
	return hex.EncodeToString(h[:])
}

// fetch downloads a completed recording and builds its raw item: the call
// for the caller's number, then the media.
func (s *Source) fetch(ctx context.Context, rec Recording) (model.RawItem, error) {
	var call Call
	if rec.CallSID != "" {
		var err error
		if call, err = s.client.Call(ctx, rec.CallSID); err != nil && !errors.Is(err, ErrNotFound) {
			return model.RawItem{}, err
		}
	}
	media, err := s.client.Media(ctx, rec.SID, s.cfg.MediaFormat)
	if err != nil {
		return model.RawItem{}, err
	}
	if media.Tries > 1 {
		s.metrics.mediaRetries.Add(float64(media.Tries - 1))
	}
	meta, err := json.Marshal(model.VoicemailMeta{
		RecordingSID: rec.SID, CallSID: rec.CallSID, AccountSID: s.client.AccountSID(),
		From: call.From, To: call.To, CallerName: call.CallerName, ForwardedFrom: call.ForwardedFrom,
		Duration: rec.Duration, DateCreated: rec.DateCreated.Format(time.RFC3339),
		RecordingSource: rec.Source, Channels: rec.Channels,
		MediaFormat: s.cfg.MediaFormat, MediaContentType: media.ContentType,
	})
	if err != nil {
		return model.RawItem{}, fmt.Errorf("encode meta: %w", err)
	}
	return model.RawItem{
		SourceKey:   rec.SID,
		Kind:        "voicemail",
		ContentHash: ContentHash(s.client.AccountSID(), rec.SID),
		Raw:         media.Data,
		Meta:        string(meta),
		ReceivedAt:  rec.DateCreated,
	}, nil
}

// store hands one item to the store with the cursor (empty keeps it),
// then deletes the recording at Twilio when configured. It reports
// whether the item was new.
func (s *Source) store(ctx context.Context, item model.RawItem, holder, cursor string) (bool, error) {
	res, err := s.sink.Receive(ctx, model.Batch{Source: s.name, Holder: holder, Cursor: cursor, Items: []model.RawItem{item}})
	if err != nil {
		return false, fmt.Errorf("store recording %s: %w", item.SourceKey, err)
	}
	s.metrics.ingested.Add(float64(res.Inserted + res.Linked))
	s.log.Info("recording stored", "recording_sid", item.SourceKey, "bytes", len(item.Raw), "new", res.Inserted > 0)
	s.afterIngest(ctx, item.SourceKey)
	return res.Inserted > 0, nil
}

// afterIngest deletes a stored recording at Twilio when configured. A
// failure is logged and counted; the next poll lists the recording again
// and retries.
func (s *Source) afterIngest(ctx context.Context, sid string) {
	if !s.cfg.DeleteAfterIngest {
		return
	}
	if err := s.client.DeleteRecording(ctx, sid); err != nil {
		s.metrics.deleteFailed.Inc()
		s.log.Warn("cannot delete recording at twilio after ingest", "recording_sid", sid, "err", err)
	}
}

// IngestRecording stores one recording now, as a recording-status callback
// asks: fetch it, skip it when it is not completed or stored already,
// download, store (the cursor is left to the poller), and delete it at
// Twilio when configured. It reports whether a new item was stored. It
// needs no lease and may run while Run polls: the store ignores a second
// receipt of the same recording.
func (s *Source) IngestRecording(ctx context.Context, sid string) (bool, error) {
	if !recordingSID.MatchString(sid) {
		return false, fmt.Errorf("twilio %s: %q is not a recording sid", s.name, sid)
	}
	if err := s.sink.EnsureSource(ctx, s.name, Kind); err != nil {
		return false, fmt.Errorf("twilio %s: %w", s.name, err)
	}
	done, err := s.sink.ReceivedKeys(ctx, s.name, []string{sid})
	if err != nil {
		return false, fmt.Errorf("twilio %s: %w", s.name, err)
	}
	if done[sid] {
		s.afterIngest(ctx, sid)
		return false, nil
	}
	rec, err := s.client.Recording(ctx, sid)
	if err != nil {
		return false, fmt.Errorf("twilio %s: %w", s.name, err)
	}
	if rec.Status != statusCompleted {
		s.log.Info("recording not completed yet; the poller takes it later", "recording_sid", sid, "status", rec.Status)
		return false, nil
	}
	item, err := s.fetch(ctx, rec)
	if err != nil {
		return false, fmt.Errorf("twilio %s: %w", s.name, err)
	}
	return s.store(ctx, item, "", "")
}
