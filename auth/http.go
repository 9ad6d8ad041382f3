package auth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

const (
	// CookieName is the browser session cookie.
	CookieName = "hotline_session"
	// CSRFHeader carries the CSRF token on cookie-authenticated writes.
	CSRFHeader = "X-Hotline-CSRF"

	sessionKey = "hotline.auth.session"
	maxBody    = 16 << 10
)

// RequireRole admits requests with a valid session whose user has at least
// one of roles (any logged-in user when roles is empty). It answers 401
// without a session, 403 when the role is missing or when a cookie session
// writes without the CSRF header. Handlers behind it can call Actor.
func (s *Service) RequireRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		sess, viaCookie, err := s.identify(c)
		if err != nil {
			if errors.Is(err, ErrNoSession) {
				c.Header("WWW-Authenticate", `Bearer realm="hotline"`)
				web.Problem(c, http.StatusUnauthorized, "Not logged in", "log in to use this page or API")
				return
			}
			web.Problem(c, http.StatusInternalServerError, "Internal error", "could not check the session")
			return
		}
		if viaCookie && !safeMethod(c.Request.Method) && !CheckCSRF(sess.Token, c.GetHeader(CSRFHeader)) {
			web.Problem(c, http.StatusForbidden, "CSRF check failed",
				"state-changing requests with a session cookie need the "+CSRFHeader+" header from login or /api/v1/auth/me")
			return
		}
		if len(roles) > 0 && !sess.User.HasRole(roles...) {
			web.Problem(c, http.StatusForbidden, "Permission denied",
				"this needs the role "+strings.Join(roles, " or ")+"; ask an administrator")
			return
		}
		c.Set(sessionKey, sess)
		c.Next()
	}
}

// Actor returns the user name of the request's session ("" outside
// RequireRole), for recording who made a change.
func Actor(c *gin.Context) string {
	u, _ := CurrentUser(c)
	return u.Username
}

// CurrentUser returns the user of the request's session.
func CurrentUser(c *gin.Context) (User, bool) {
	v, ok := c.Get(sessionKey)
	if !ok {
		return User{}, false
	}
	sess, ok := v.(Session)
	return sess.User, ok
}

// identify finds the session from the bearer header or the cookie. A
// bearer header wins, and its requests are exempt from CSRF checks.
func (s *Service) identify(c *gin.Context) (Session, bool, error) {
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return Session{}, false, ErrNoSession
		}
		sess, err := s.Authenticate(c.Request.Context(), strings.TrimSpace(token))
		return sess, false, err
	}
	cookie, err := c.Request.Cookie(CookieName)
	if err != nil {
		return Session{}, false, ErrNoSession
	}
	sess, err := s.Authenticate(c.Request.Context(), cookie.Value)
	return sess, true, err
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Register mounts the login and user administration routes on api:
//
//	POST  /auth/login   {username, password, bearer?} → user, csrf_token (and token when bearer)
//	POST  /auth/logout
//	GET   /auth/me      → user, csrf_token
//	GET   /users        (admin)
//	POST  /users        (admin) {username, display_name, password, roles}
//	PATCH /users/:username (admin) {display_name?, password?, roles?, disabled?}
func (s *Service) Register(api *gin.RouterGroup) {
	api.POST("/auth/login", s.handleLogin)
	api.POST("/auth/logout", s.RequireRole(), s.handleLogout)
	api.GET("/auth/me", s.RequireRole(), s.handleMe)
	admin := api.Group("/users", s.RequireRole(RoleAdmin))
	admin.GET("", s.handleListUsers)
	admin.POST("", s.handleCreateUser)
	admin.PATCH("/:username", s.handleUpdateUser)
}

type sessionResponse struct {
	User      User      `json:"user"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
	Token     string    `json:"token,omitempty"`
}

func (s *Service) handleLogin(c *gin.Context) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		// Bearer asks for the token in the body instead of a cookie, for
		// API clients and scripts.
		Bearer bool `json:"bearer"`
	}
	// Requiring a JSON body also blocks login CSRF: a cross-site HTML form
	// cannot send application/json without a CORS preflight.
	if !decodeJSON(c, &req) {
		return
	}
	if req.Username == "" || req.Password == "" {
		web.Problem(c, http.StatusBadRequest, "Missing credentials", "username and password are required")
		return
	}
	sess, err := s.Login(c.Request.Context(), req.Username, req.Password, c.RemoteIP())
	var rl *RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Header("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
		web.Problem(c, http.StatusTooManyRequests, "Too many attempts", err.Error())
		return
	case errors.Is(err, ErrInvalidCredentials):
		web.Problem(c, http.StatusUnauthorized, "Login failed", "wrong user name or password")
		return
	case err != nil:
		web.Problem(c, http.StatusInternalServerError, "Internal error", "login could not be completed")
		return
	}
	resp := sessionResponse{User: sess.User, CSRFToken: sess.CSRF, ExpiresAt: sess.ExpiresAt}
	if req.Bearer {
		resp.Token, resp.CSRFToken = sess.Token, ""
	} else {
		s.setCookie(c, sess.Token, sess.ExpiresAt)
	}
	c.JSON(http.StatusOK, resp)
}

func (s *Service) setCookie(c *gin.Context, value string, expires time.Time) {
	ck := &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secureCookie,
		SameSite: http.SameSiteStrictMode,
	}
	if value == "" {
		ck.MaxAge = -1
	} else {
		// Max-Age wins over Expires in browsers, and unlike Expires it does
		// not depend on the client's clock agreeing with ours.
		ck.Expires = expires
		ck.MaxAge = max(int(expires.Sub(s.now()).Seconds()), 1)
	}
	http.SetCookie(c.Writer, ck)
}

func (s *Service) handleLogout(c *gin.Context) {
	v, _ := c.Get(sessionKey)
	sess, _ := v.(Session)
	if err := s.Logout(c.Request.Context(), sess.Token); err != nil {
		web.Problem(c, http.StatusInternalServerError, "Internal error", "logout could not be completed")
		return
	}
	s.setCookie(c, "", time.Time{})
	c.Status(http.StatusNoContent)
}

func (s *Service) handleMe(c *gin.Context) {
	v, _ := c.Get(sessionKey)
	sess, _ := v.(Session)
	resp := sessionResponse{User: sess.User, ExpiresAt: sess.ExpiresAt}
	if _, err := c.Request.Cookie(CookieName); err == nil && c.GetHeader("Authorization") == "" {
		resp.CSRFToken = sess.CSRF
	}
	c.JSON(http.StatusOK, resp)
}

func (s *Service) handleListUsers(c *gin.Context) {
	users, err := s.Users(c.Request.Context())
	if err != nil {
		web.Problem(c, http.StatusInternalServerError, "Internal error", "could not list users")
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": users})
}

func (s *Service) handleCreateUser(c *gin.Context) {
	var nu NewUser
	if !decodeJSON(c, &nu) {
		return
	}
	u, err := s.CreateUser(c.Request.Context(), nu, Actor(c))
	if err != nil {
		userProblem(c, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

func (s *Service) handleUpdateUser(c *gin.Context) {
	var up UserUpdate
	if !decodeJSON(c, &up) {
		return
	}
	name := c.Param("username")
	// An admin locking themselves out leaves nobody to undo it.
	if name == Actor(c) && ((up.Disabled != nil && *up.Disabled) || (up.Roles != nil && !User{Roles: *up.Roles}.HasRole(RoleAdmin))) {
		web.Problem(c, http.StatusUnprocessableEntity, "Invalid change", "you cannot disable yourself or remove your own admin role")
		return
	}
	u, err := s.UpdateUser(c.Request.Context(), name, up, Actor(c))
	if err != nil {
		userProblem(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

func userProblem(c *gin.Context, err error) {
	switch {
	case errors.Is(err, ErrInvalidUser):
		web.Problem(c, http.StatusUnprocessableEntity, "Invalid user", strings.TrimPrefix(err.Error(), ErrInvalidUser.Error()+": "))
	case errors.Is(err, ErrUserExists):
		web.Problem(c, http.StatusConflict, "User exists", "a user with this name already exists")
	case errors.Is(err, ErrUserNotFound):
		web.Problem(c, http.StatusNotFound, "No such user", "there is no user with this name")
	default:
		web.Problem(c, http.StatusInternalServerError, "Internal error", "the user could not be saved")
	}
}

// decodeJSON reads a small JSON body into v, answering 415, 413 or 400
// itself when it cannot.
func decodeJSON(c *gin.Context, v any) bool {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "application/json" {
		web.Problem(c, http.StatusUnsupportedMediaType, "Unsupported media type", "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		web.Problem(c, http.StatusRequestEntityTooLarge, "Body too large", "the request body is limited to 16 KiB")
		return false
	case errors.Is(err, io.EOF):
		web.Problem(c, http.StatusBadRequest, "Empty body", "a JSON object is required")
		return false
	case err != nil:
		web.Problem(c, http.StatusBadRequest, "Malformed JSON", err.Error())
		return false
	}
	return true
}
